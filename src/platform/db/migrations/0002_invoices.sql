CREATE TABLE "invoice_scans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trigger" text NOT NULL,
	"source" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"matched" integer DEFAULT 0 NOT NULL,
	"enqueued" integer DEFAULT 0 NOT NULL,
	"duplicates" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"invalid_recipients" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" varchar(100) PRIMARY KEY NOT NULL,
	"vendor_name" varchar(300) NOT NULL,
	"total_minor" bigint NOT NULL,
	"currency" varchar(3) NOT NULL,
	"matched_status" varchar(50) NOT NULL,
	"invoice_link" varchar(2000),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoices_total_minor_nonnegative" CHECK ("invoices"."total_minor" >= 0)
);
--> statement-breakpoint
CREATE INDEX "invoice_scans_started_idx" ON "invoice_scans" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "invoices_matched_status_idx" ON "invoices" USING btree ("matched_status","id");