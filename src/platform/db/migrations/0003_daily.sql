CREATE TABLE "ai_usage_daily" (
	"day" date NOT NULL,
	"purpose" text NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_usage_daily_day_purpose_pk" PRIMARY KEY("day","purpose")
);
--> statement-breakpoint
CREATE TABLE "daily_contents" (
	"local_date" date NOT NULL,
	"audience" text NOT NULL,
	"body" text NOT NULL,
	"fingerprint" text NOT NULL,
	"source" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_contents_local_date_audience_pk" PRIMARY KEY("local_date","audience")
);
--> statement-breakpoint
CREATE TABLE "daily_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"subscriber_id" uuid NOT NULL,
	"local_date" date NOT NULL,
	"send_at" timestamp with time zone NOT NULL,
	"body" text NOT NULL,
	"fingerprint" text NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_messages_once_a_day" UNIQUE("subscriber_id","local_date")
);
--> statement-breakpoint
CREATE TABLE "daily_subscribers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone" text NOT NULL,
	"name" text,
	"time_zone" text NOT NULL,
	"window_start" integer NOT NULL,
	"window_end" integer NOT NULL,
	"language" text DEFAULT 'en' NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"paused_until" date,
	"help_replied_on" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_subscribers_phone_unique" UNIQUE("phone"),
	CONSTRAINT "daily_subscribers_window" CHECK ("daily_subscribers"."window_start" >= 0 and "daily_subscribers"."window_end" <= 1440 and "daily_subscribers"."window_start" < "daily_subscribers"."window_end")
);
--> statement-breakpoint
ALTER TABLE "daily_messages" ADD CONSTRAINT "daily_messages_subscriber_id_daily_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."daily_subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "daily_messages_local_date_idx" ON "daily_messages" USING btree ("local_date");--> statement-breakpoint
CREATE INDEX "daily_subscribers_group_idx" ON "daily_subscribers" USING btree ("time_zone","window_start","window_end","language","id");