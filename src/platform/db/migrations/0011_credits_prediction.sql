CREATE TABLE "credit_checks" (
	"request_id" uuid PRIMARY KEY NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"account" varchar(400),
	"cost_cents" bigint,
	"credit_cents" bigint NOT NULL,
	"features" jsonb,
	"prediction" jsonb,
	"prediction_note" text,
	"flag_reason" text,
	"flag_kinds" jsonb,
	"held" boolean DEFAULT false NOT NULL,
	"approved_by" varchar(200),
	"approved_via" text,
	"approved_at" timestamp with time zone,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_models" (
	"version" integer PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"parameters" jsonb NOT NULL,
	"evaluation" jsonb,
	"requests" integer NOT NULL,
	"trained_through" timestamp with time zone,
	"trigger" text NOT NULL,
	"trained_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "credit_checks" ADD CONSTRAINT "credit_checks_request_id_credit_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."credit_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_checks_account_idx" ON "credit_checks" USING btree ("account","requested_at");--> statement-breakpoint
CREATE INDEX "credit_checks_requested_idx" ON "credit_checks" USING btree ("requested_at");--> statement-breakpoint
CREATE INDEX "credit_checks_waiting_idx" ON "credit_checks" USING btree ("requested_at") WHERE held and approved_at is null;