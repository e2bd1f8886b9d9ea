ALTER TABLE "credit_checks" ADD COLUMN "reply_note" text;--> statement-breakpoint
ALTER TABLE "credit_checks" ADD COLUMN "corrected_cents" bigint;