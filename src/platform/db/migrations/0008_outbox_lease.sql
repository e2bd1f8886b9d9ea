ALTER TABLE "outbox_messages" ADD COLUMN "attempt_id" uuid;--> statement-breakpoint
ALTER TABLE "outbox_messages" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox_messages" ADD COLUMN "unconfirmed_since" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "outbox_messages_lease_idx" ON "outbox_messages" USING btree ("lease_expires_at") WHERE status = 'sending';--> statement-breakpoint
-- Rows left `sending` by an older version: their attempt may have reached the provider, so the next
-- one reads back from when it began; their lease runs out at once, for the sweep to take them.
UPDATE "outbox_messages" SET "unconfirmed_since" = "attempt_started_at", "lease_expires_at" = now() WHERE "status" = 'sending';
