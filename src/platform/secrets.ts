// The process-wide secret scrubber. Providers quote our requests back in their error bodies (an
// Authorization header, a form with client_secret=...), and those error texts flow into logs, rows
// (outbox last_error, credit_requests.error) and API responses. Every configured secret value, and
// the forms it travels in (HTTP Basic base64, URL and form encoding), is registered here once from
// the loaded config, and scrubSecrets removes them from any text. Well-known token shapes (Stripe,
// Slack, SendGrid keys, Bearer/Basic credentials) are removed even when not configured here.
import type { Config } from '../config.ts';

export const SECRET_MASK = '[REDACTED SECRET]';

/** Shorter values are not scrubbed: masking "admin" everywhere would garble ordinary text. */
export const MIN_SECRET_LENGTH = 8;

const registered = new Set<string>();
/** Longest first, so a secret that contains another is removed whole. */
let ordered: string[] = [];

/** Authorization header values quoted back: "Basic QUM...", "Bearer sk_...". */
const AUTH_SCHEME = /\b(Basic|Bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/g;
const SHAPES = [
  // Stripe (sk_, rk_, whsec_), Slack (xoxb-, xapp-), SendGrid (SG.x.y) key shapes
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}/g,
  /\bwhsec_[A-Za-z0-9+/=]{8,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{8,}/g,
  /\bxapp-[A-Za-z0-9-]{8,}/g,
  /\bSG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];

/** Adds secret values (and their encoded forms) to the scrubber. Values shorter than the guard are skipped. */
export function registerSecrets(values: Iterable<string | null | undefined>): void {
  let changed = false;
  for (const value of values) {
    if (!value || value.length < MIN_SECRET_LENGTH) continue;
    for (const form of encodings(value)) {
      if (form.length < MIN_SECRET_LENGTH || registered.has(form)) continue;
      registered.add(form);
      changed = true;
    }
  }
  if (changed) ordered = [...registered].sort((a, b) => b.length - a.length);
}

/**
 * The forms a user and secret take together: HTTP Basic `base64(user:secret)` (Twilio's
 * AccountSid:AuthToken, a URL's user and password) and SMTP AUTH PLAIN `base64(\0user\0secret)`.
 */
export function credentialForms(user: string, secret: string): string[] {
  if (!secret || secret.length < MIN_SECRET_LENGTH) return [];
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return [secret, base64(`${user}:${secret}`), base64(`\0${user}\0${secret}`)];
}

function encodings(value: string): string[] {
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    Buffer.from(value).toString('base64'),
  ];
}

/** The user name and password of a connection URL (postgres://user:pw@host), when it has them. */
function urlCredentials(url: string | null | undefined): string[] {
  if (!url) return [];
  try {
    const parsed = new URL(url);
    const password = decodeURIComponent(parsed.password);
    return password ? [password, ...credentialForms(decodeURIComponent(parsed.username), password)] : [];
  } catch {
    return [];
  }
}

/** Every secret a loaded config holds, and the credential forms they travel in: what the scrubber is built from. */
export function configSecrets(config: Config): string[] {
  const values: Array<string | null | undefined> = [config.adminToken];
  if (config.database.kind === 'postgres') values.push(...urlCredentials(config.database.url));
  values.push(...urlCredentials(config.redis?.url));
  values.push(...urlCredentials(config.invoices.source?.url));
  const { sms, email, slack } = config.channels;
  if (sms.driver === 'twilio') {
    values.push(sms.authToken, ...credentialForms(sms.accountSid, sms.authToken));
  }
  if (email.driver === 'sendgrid') values.push(email.apiKey);
  if (email.driver === 'smtp') values.push(...urlCredentials(email.url));
  if (slack.driver === 'slack') values.push(slack.token);
  const provider = config.ai.provider;
  if ('apiKey' in provider) values.push(provider.apiKey);
  if (provider.kind === 'bedrock' && provider.credentials) {
    const { accessKeyId, secretAccessKey, sessionToken } = provider.credentials;
    values.push(accessKeyId, secretAccessKey, sessionToken);
  }
  const credits = config.credits;
  values.push(credits.signingSecret, credits.socketToken);
  if (credits.looker) {
    const { clientId, clientSecret } = credits.looker;
    values.push(clientId, clientSecret, ...credentialForms(clientId, clientSecret));
  }
  if (credits.runner.kind === 'postgres') values.push(...urlCredentials(credits.runner.url));
  if (credits.runner.kind === 'trino') values.push(...urlCredentials(credits.runner.url));
  const stripe = config.payments.stripe;
  values.push(stripe.secretKey, ...stripe.webhookSecrets, ...config.payments.apiKeys);
  // Stripe also takes its key as a Basic user name with no password.
  if (stripe.secretKey) values.push(Buffer.from(`${stripe.secretKey}:`).toString('base64'));
  // A collector's API key travels as an OTLP header (`x-honeycomb-team=...,authorization=...`).
  for (const [name, value] of Object.entries(config.tracing.variables))
    if (/^OTEL_EXPORTER_OTLP(_TRACES)?_HEADERS$/.test(name))
      for (const pair of value.split(','))
        values.push(...headerValueForms(pair.slice(pair.indexOf('=') + 1)));
  return values.filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/** Registers every secret of a loaded config; called once at boot (startService, the CLI). */
export function registerConfigSecrets(config: Config): void {
  registerSecrets(configSecrets(config));
}

/** An OTLP header value as given and as the SDK decodes it (the variable is URL-encoded). */
function headerValueForms(raw: string): string[] {
  const value = raw.trim();
  try {
    return [value, decodeURIComponent(value)];
  } catch {
    return [value];
  }
}

/** `text` without any registered secret or well-known credential shape. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(SECRET_MASK);
  out = out.replace(AUTH_SCHEME, `$1$2${SECRET_MASK}`);
  for (const shape of SHAPES) out = out.replace(shape, SECRET_MASK);
  return out;
}
