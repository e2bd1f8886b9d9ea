CREATE TABLE "chat_api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" varchar(100) NOT NULL,
	"key_hash" varchar(64) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "chat_api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "chat_sessions" (
	"id" varchar(100) PRIMARY KEY NOT NULL,
	"state" jsonb NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"status" varchar(20) NOT NULL,
	"payment_intent_id" varchar(100),
	"checkout_session_id" varchar(100),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_attempts" (
	"idempotency_key" varchar(200) PRIMARY KEY NOT NULL,
	"session_id" varchar(100) NOT NULL,
	"payment_intent_id" varchar(100),
	"amount_minor" bigint NOT NULL,
	"currency" varchar(3) NOT NULL,
	"invoice_id" varchar(100),
	"status" varchar(40) NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "chat_sessions_expires_idx" ON "chat_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "chat_sessions_payment_intent_idx" ON "chat_sessions" USING btree ("payment_intent_id");--> statement-breakpoint
CREATE INDEX "chat_sessions_checkout_idx" ON "chat_sessions" USING btree ("checkout_session_id");--> statement-breakpoint
CREATE INDEX "payment_attempts_session_idx" ON "payment_attempts" USING btree ("session_id");