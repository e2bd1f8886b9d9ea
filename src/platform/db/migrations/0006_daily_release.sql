ALTER TABLE "daily_messages" DROP CONSTRAINT "daily_messages_once_a_day";--> statement-breakpoint
ALTER TABLE "daily_messages" DROP CONSTRAINT "daily_messages_subscriber_id_daily_subscribers_id_fk";
--> statement-breakpoint
ALTER TABLE "daily_messages" DROP COLUMN "id";--> statement-breakpoint
ALTER TABLE "daily_messages" ADD CONSTRAINT "daily_messages_once_a_day" PRIMARY KEY("subscriber_id","local_date");--> statement-breakpoint
ALTER TABLE "daily_messages" ADD COLUMN "queued_at" timestamp with time zone;--> statement-breakpoint
-- Rows planned before this release were queued in the outbox when they were planned.
UPDATE "daily_messages" SET "queued_at" = "created_at";--> statement-breakpoint
CREATE INDEX "daily_messages_fingerprint_idx" ON "daily_messages" USING btree ("fingerprint","local_date");--> statement-breakpoint
CREATE INDEX "daily_messages_waiting_idx" ON "daily_messages" USING btree ("send_at") WHERE "daily_messages"."queued_at" is null;
