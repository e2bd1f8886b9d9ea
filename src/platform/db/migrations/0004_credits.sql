CREATE TABLE "credit_poll_cursors" (
	"channel" varchar(100) PRIMARY KEY NOT NULL,
	"latest_ts" varchar(32) NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_key" varchar(100) NOT NULL,
	"channel" varchar(100) NOT NULL,
	"ts" varchar(32) NOT NULL,
	"text" text NOT NULL,
	"intake" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"round" integer DEFAULT 1 NOT NULL,
	"amount_cents" bigint,
	"summary" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "credit_requests_amount_nonnegative" CHECK ("credit_requests"."amount_cents" is null or "credit_requests"."amount_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "credit_sample_sms_traffic" (
	"id" integer PRIMARY KEY NOT NULL,
	"account_sid" varchar(34) NOT NULL,
	"product" varchar(40) NOT NULL,
	"fraud_guard_mode" varchar(20) NOT NULL,
	"destination_country" varchar(2) NOT NULL,
	"msg_count" integer NOT NULL,
	"fraud_cost" numeric(14, 6) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "credit_requests_message_key_idx" ON "credit_requests" USING btree ("message_key");--> statement-breakpoint
CREATE INDEX "credit_requests_created_idx" ON "credit_requests" USING btree ("created_at");