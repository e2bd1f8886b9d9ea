ALTER TABLE "credit_requests" ADD COLUMN "thread_ts" varchar(32);--> statement-breakpoint
ALTER TABLE "credit_requests" ADD COLUMN "edited_at" timestamp with time zone;