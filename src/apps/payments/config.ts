// PayBot's variables: Stripe, how cards are taken, and the chat API's callers and limits.
import { z } from 'zod';
import {
  defineAppConfig,
  httpUrl,
  optional,
  positiveInt,
  seconds,
} from '../../platform/config/env-schema.ts';
import { isCurrency } from '../../platform/money.ts';

/** PayBot: the chat API, its callers' keys and limits, and Stripe. */
export interface PaymentsConfig {
  stripe: {
    /** null: the bot still talks, but says card payments are not set up instead of opening the card step. */
    secretKey: string | null;
    publishableKey: string | null;
    /** The first of `webhookSecrets` (what platform/secrets.ts registers for scrubbing). */
    webhookSecret: string | null;
    /** STRIPE_WEBHOOK_SECRET split on commas: during a rotation, a signature by any one verifies. */
    webhookSecrets: string[];
    /** STRIPE_API_BASE_URL split the way the stripe SDK takes it. */
    api: { protocol: 'http' | 'https'; host: string; port: number };
    jsUrl: string;
    maxNetworkRetries: number;
  };
  cardMode: 'hosted' | 'embedded';
  defaultCurrency: string;
  maxRetries: number;
  handoffMessage: string;
  interpreterTimeoutMs: number;
  /** Plain keys from CHAT_API_KEYS (simple installs); hashed keys live in the database. */
  apiKeys: string[];
  sessionTtlMs: number;
  /** How long a session with a charge attempt keeps the person's data after its last activity. */
  retentionDays: number;
  ratePerKeyPerMinute: number;
  ratePerSessionPerMinute: number;
  bodyLimitBytes: number;
  messageMaxChars: number;
  /** How /pay presents the merchant. */
  brand: { name: string; logoUrl: string | null; color: string; backgroundColor: string };
}

const hexColour = z
  .string()
  .trim()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'a colour as #rgb or #rrggbb')
  .transform((value) => value.toLowerCase());

export const paymentsConfig = defineAppConfig({
  schema: z.object({
    STRIPE_SECRET_KEY: optional(z.string().regex(/^(sk|rk)_\S+$/, 'a Stripe secret key (sk_... or rk_...)')),
    STRIPE_PUBLISHABLE_KEY: optional(z.string().regex(/^pk_\S+$/, 'a Stripe publishable key (pk_...)')),
    STRIPE_WEBHOOK_SECRET: optional(
      z
        .string()
        .regex(
          /^\s*whsec_[^\s,]+\s*(?:,\s*whsec_[^\s,]+\s*)*$/,
          'a webhook signing secret (whsec_...), or several separated by commas during a rotation',
        ),
    ),
    STRIPE_API_BASE_URL: httpUrl.default('https://api.stripe.com'),
    STRIPE_JS_URL: httpUrl.default('https://js.stripe.com/v3'),
    STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    PAYMENTS_CARD_MODE: z.enum(['hosted', 'embedded']).default('hosted'),
    PAYMENTS_DEFAULT_CURRENCY: z.string().trim().toUpperCase().default('USD'),
    PAYMENTS_MAX_RETRIES: positiveInt.max(20).default(3),
    PAYMENTS_HANDOFF_MESSAGE: z
      .string()
      .min(1)
      .max(500)
      .default(
        'I could not complete this with you here. A member of our team will help: reply "restart" to try again.',
      ),
    PAYMENTS_INTERPRETER_TIMEOUT_SECONDS: seconds.max(30).default(2),
    CHAT_API_KEYS: z.string().default(''),
    CHAT_SESSION_TTL_MINUTES: positiveInt.max(7 * 24 * 60).default(60),
    CHAT_RETENTION_DAYS: positiveInt.max(3650).default(30),
    CHAT_RATE_LIMIT_PER_KEY: positiveInt.max(1_000_000).default(600),
    CHAT_RATE_LIMIT_PER_SESSION: positiveInt.max(10_000).default(30),
    CHAT_BODY_LIMIT_BYTES: positiveInt.max(1024 * 1024).default(8192),
    CHAT_MESSAGE_MAX_CHARS: positiveInt.max(10_000).default(1000),
    PAYMENTS_BRAND_NAME: z.string().trim().min(1).max(80).default('PayBot'),
    PAYMENTS_BRAND_LOGO: optional(httpUrl),
    PAYMENTS_BRAND_COLOR: hexColour.default('#1d4ed8'),
    PAYMENTS_BRAND_BACKGROUND_COLOR: hexColour.default('#f8fafc'),
  }),
  settings(e, { problem }): PaymentsConfig {
    if (!isCurrency(e.PAYMENTS_DEFAULT_CURRENCY))
      problem('PAYMENTS_DEFAULT_CURRENCY', 'expected an ISO 4217 currency code such as USD');
    if (e.PAYMENTS_CARD_MODE === 'embedded' && e.STRIPE_SECRET_KEY && !e.STRIPE_PUBLISHABLE_KEY)
      problem(
        'STRIPE_PUBLISHABLE_KEY',
        'required with PAYMENTS_CARD_MODE=embedded (the Payment Element needs it)',
      );
    const base = new URL(e.STRIPE_API_BASE_URL);
    const webhookSecrets = (e.STRIPE_WEBHOOK_SECRET ?? '')
      .split(',')
      .map((secret) => secret.trim())
      .filter(Boolean);
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    return {
      stripe: {
        secretKey: e.STRIPE_SECRET_KEY ?? null,
        publishableKey: e.STRIPE_PUBLISHABLE_KEY ?? null,
        webhookSecret: webhookSecrets[0] ?? null,
        webhookSecrets,
        api: { protocol, host: base.hostname, port: Number(base.port || (protocol === 'http' ? 80 : 443)) },
        jsUrl: e.STRIPE_JS_URL,
        maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
      },
      cardMode: e.PAYMENTS_CARD_MODE,
      defaultCurrency: e.PAYMENTS_DEFAULT_CURRENCY,
      maxRetries: e.PAYMENTS_MAX_RETRIES,
      handoffMessage: e.PAYMENTS_HANDOFF_MESSAGE,
      interpreterTimeoutMs: Math.round(e.PAYMENTS_INTERPRETER_TIMEOUT_SECONDS * 1000),
      apiKeys: e.CHAT_API_KEYS.split(',')
        .map((key) => key.trim())
        .filter(Boolean),
      sessionTtlMs: e.CHAT_SESSION_TTL_MINUTES * 60_000,
      retentionDays: e.CHAT_RETENTION_DAYS,
      ratePerKeyPerMinute: e.CHAT_RATE_LIMIT_PER_KEY,
      ratePerSessionPerMinute: e.CHAT_RATE_LIMIT_PER_SESSION,
      bodyLimitBytes: e.CHAT_BODY_LIMIT_BYTES,
      messageMaxChars: e.CHAT_MESSAGE_MAX_CHARS,
      brand: {
        name: e.PAYMENTS_BRAND_NAME,
        logoUrl: e.PAYMENTS_BRAND_LOGO ?? null,
        color: e.PAYMENTS_BRAND_COLOR,
        backgroundColor: e.PAYMENTS_BRAND_BACKGROUND_COLOR,
      },
    };
  },
});
