// The invoice alerts' variables: how often to scan, whom to tell, where invoices come from and
// which templates render them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineAppConfig, optional, positiveInt, postgresUrl } from '../../platform/config/env-schema.ts';

export interface InvoicesConfig {
  intervalMinutes: number;
  /** NOTIFICATION_RECIPIENTS as written: entries are validated (and bad ones logged) by the app. */
  recipients: string[];
  /** A team's own PostgreSQL to scan instead of Switchboard's invoices table. */
  source: { url: string; query: string } | null;
  smsMaxSegments: number;
  /** Files that override the built-in templates. */
  templateFiles: { emailHtml?: string; emailText?: string; emailSubject?: string; sms?: string };
}

export const invoicesConfig = defineAppConfig({
  schema: z.object({
    REVIEW_NOTIFICATION_INTERVAL: z.coerce.number().int().min(5).max(1440).default(30),
    NOTIFICATION_RECIPIENTS: z.string().default(''),
    INVOICE_SOURCE_URL: optional(postgresUrl),
    INVOICE_SOURCE_QUERY: optional(z.string().min(10)),
    INVOICE_SMS_MAX_SEGMENTS: positiveInt.max(10).default(1),
    INVOICE_EMAIL_HTML_TEMPLATE: optional(z.string()),
    INVOICE_EMAIL_TEXT_TEMPLATE: optional(z.string()),
    INVOICE_EMAIL_SUBJECT_TEMPLATE: optional(z.string()),
    INVOICE_SMS_TEMPLATE: optional(z.string()),
  }),
  settings(e, { cwd, problem }): InvoicesConfig {
    if (Boolean(e.INVOICE_SOURCE_URL) !== Boolean(e.INVOICE_SOURCE_QUERY)) {
      problem(
        e.INVOICE_SOURCE_URL ? 'INVOICE_SOURCE_QUERY' : 'INVOICE_SOURCE_URL',
        'INVOICE_SOURCE_URL and INVOICE_SOURCE_QUERY go together',
      );
    }
    const templateFiles = {
      ...(e.INVOICE_EMAIL_HTML_TEMPLATE
        ? { emailHtml: path.resolve(cwd, e.INVOICE_EMAIL_HTML_TEMPLATE) }
        : {}),
      ...(e.INVOICE_EMAIL_TEXT_TEMPLATE
        ? { emailText: path.resolve(cwd, e.INVOICE_EMAIL_TEXT_TEMPLATE) }
        : {}),
      ...(e.INVOICE_EMAIL_SUBJECT_TEMPLATE
        ? { emailSubject: path.resolve(cwd, e.INVOICE_EMAIL_SUBJECT_TEMPLATE) }
        : {}),
      ...(e.INVOICE_SMS_TEMPLATE ? { sms: path.resolve(cwd, e.INVOICE_SMS_TEMPLATE) } : {}),
    };
    for (const [variable, file] of [
      ['INVOICE_EMAIL_HTML_TEMPLATE', templateFiles.emailHtml],
      ['INVOICE_EMAIL_TEXT_TEMPLATE', templateFiles.emailText],
      ['INVOICE_EMAIL_SUBJECT_TEMPLATE', templateFiles.emailSubject],
      ['INVOICE_SMS_TEMPLATE', templateFiles.sms],
    ] as const) {
      if (file && !existsSync(file)) problem(variable, `no such file: ${file}`);
    }
    return {
      intervalMinutes: e.REVIEW_NOTIFICATION_INTERVAL,
      recipients: e.NOTIFICATION_RECIPIENTS.split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
      source:
        e.INVOICE_SOURCE_URL && e.INVOICE_SOURCE_QUERY
          ? { url: e.INVOICE_SOURCE_URL, query: e.INVOICE_SOURCE_QUERY }
          : null,
      smsMaxSegments: e.INVOICE_SMS_MAX_SEGMENTS,
      templateFiles,
    };
  },
});
