ALTER TABLE "chat_sessions" ADD COLUMN "window_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "window_messages" integer DEFAULT 0 NOT NULL;