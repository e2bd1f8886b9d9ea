// The review alert, as a responsive HTML email with a plain-text part, and as an SMS. Values are
// escaped for HTML in the HTML template; the SMS is fitted to its segment budget by the outbox.
// Every template can be replaced by a file (INVOICE_*_TEMPLATE) using the same {{placeholders}}.
import { readFileSync } from 'node:fs';
import type { Config } from '../../config.ts';
import type { TemplateRegistry } from '../../platform/channels/content.ts';
import { fitToSegments } from '../../platform/channels/sms/segments.ts';
import { formatMoney } from '../../platform/money.ts';

export interface AlertData {
  invoice_id: string;
  vendor_name: string;
  total_minor: number;
  currency: string;
  invoice_link: string | null;
}

const DEFAULT_SUBJECT = 'Invoice {{invoice_id}} from {{vendor_name}} needs review';

const DEFAULT_TEXT = `Invoice {{invoice_id}} from {{vendor_name}} for {{total_amount}} needs manual review.

Review it: {{invoice_link}}

You get this because you are on the accounts payable alert list.`;

const DEFAULT_SMS =
  'Invoice {{invoice_id}} from {{vendor_name}} ({{total_amount}}) needs review: {{invoice_link}}';

const DEFAULT_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invoice {{invoice_id}} needs review</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:24px 24px 8px 24px;font-size:20px;font-weight:600;">Invoice needs manual review</td></tr>
<tr><td style="padding:8px 24px;font-size:15px;line-height:1.5;">
<p style="margin:0 0 12px 0;">Invoice <strong>{{invoice_id}}</strong> from <strong>{{vendor_name}}</strong> could not be matched automatically.</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="width:100%;font-size:15px;">
<tr><td style="padding:4px 0;color:#57606a;">Vendor</td><td style="padding:4px 0;text-align:right;">{{vendor_name}}</td></tr>
<tr><td style="padding:4px 0;color:#57606a;">Total</td><td style="padding:4px 0;text-align:right;font-weight:600;">{{total_amount}}</td></tr>
</table>
</td></tr>
<tr><td style="padding:16px 24px 24px 24px;">
<a href="{{invoice_link}}" style="display:inline-block;background:#0969da;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:6px;font-weight:600;">Review invoice</a>
</td></tr>
</table>
<p style="font-size:12px;color:#57606a;">You get this because you are on the accounts payable alert list.</p>
</td></tr>
</table>
</body>
</html>`;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

/** Fills {{name}} placeholders; unknown names are left visible so a broken override is noticed. */
export function fill(
  template: string,
  values: Record<string, string>,
  encode: (value: string) => string = (v) => v,
): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    name in values ? encode(values[name] as string) : whole,
  );
}

function values(data: AlertData, linkFallback: string): Record<string, string> {
  return {
    invoice_id: data.invoice_id,
    vendor_name: data.vendor_name,
    total_amount: formatMoney(data.total_minor, data.currency),
    invoice_link: data.invoice_link ?? linkFallback,
  };
}

/** One-line text: no line breaks from a vendor name can reshape a subject or an SMS. */
const oneLine = (value: string) => value.replace(/\s+/g, ' ').trim();

export function invoiceTemplates(config: Pick<Config, 'invoices'>): TemplateRegistry {
  const files = config.invoices.templateFiles;
  const read = (file: string | undefined, fallback: string) => (file ? readFileSync(file, 'utf8') : fallback);
  const html = read(files.emailHtml, DEFAULT_HTML);
  const text = read(files.emailText, DEFAULT_TEXT);
  const subject = read(files.emailSubject, DEFAULT_SUBJECT).trim();
  const sms = read(files.sms, DEFAULT_SMS).trim();
  return {
    'invoices.review.email': (data) => {
      const v = values(data as unknown as AlertData, '(no link)');
      return {
        subject: oneLine(fill(subject, v)).slice(0, 998),
        text: fill(text, v),
        html: fill(html, v, escapeHtml),
      };
    },
    'invoices.review.sms': (data) => {
      const v = values(data as unknown as AlertData, '');
      const body = oneLine(fill(sms, v)).replace(/:\s*$/, '');
      return { body: fitToSegments(body, config.invoices.smsMaxSegments).text };
    },
  };
}
