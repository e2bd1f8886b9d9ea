CREATE TABLE "payment_refunds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"payment_intent_id" varchar(100) NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" varchar(3) NOT NULL,
	"reason" varchar(40),
	"status" varchar(30) NOT NULL,
	"failure_reason" text,
	"idempotency_key" varchar(200) NOT NULL,
	"request_key" varchar(200),
	"stripe_refund_id" varchar(100),
	"source" varchar(20) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_refunds_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "payment_refunds_stripe_refund_id_unique" UNIQUE("stripe_refund_id"),
	CONSTRAINT "payment_refunds_amount_positive" CHECK ("payment_refunds"."amount_minor" > 0)
);
--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "refunded_minor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "stripe_refunded_minor" bigint;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "charge_id" varchar(100);--> statement-breakpoint
CREATE INDEX "payment_refunds_payment_intent_idx" ON "payment_refunds" USING btree ("payment_intent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_refunds_request_key_idx" ON "payment_refunds" USING btree ("payment_intent_id","request_key");--> statement-breakpoint
CREATE INDEX "payment_attempts_payment_intent_idx" ON "payment_attempts" USING btree ("payment_intent_id");--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD CONSTRAINT "payment_attempts_refunds_within_charge" CHECK ("payment_attempts"."refunded_minor" >= 0 and "payment_attempts"."refunded_minor" <= "payment_attempts"."amount_minor");