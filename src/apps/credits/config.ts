// CreditBot's variables: the Slack channels it watches, Looker and the query runners, the
// calculators and the notebook kernel's environment, the reply it posts.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  defineAppConfig,
  flag,
  httpUrl,
  optional,
  positiveInt,
  postgresUrl,
  type SettingsContext,
  seconds,
} from '../../platform/config/env-schema.ts';
import type { NotebookSettings } from './calculators/notebook.ts';

const creditsSchema = z.object({
  SLACK_SIGNING_SECRET: optional(z.string().min(8, 'the Signing Secret from the Slack app settings')),
  SLACK_APP_TOKEN: optional(z.string().regex(/^xapp-\S+$/, 'an app-level token (xapp-...) for Socket Mode')),
  SLACK_TEST_CHANNEL: optional(z.string().trim().min(1)),
  SLACK_USER_ID: optional(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id such as W014QM1DAPN')),
  CREDITS_CHANNELS: z.string().default(''),
  CREDITS_POLL_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(1440).default(0),
  CREDITS_POLL_EDIT_LOOKBACK_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_080)
    .default(60)
    .describe('how far behind its cursor a poll reads again for edited messages'),
  CREDITS_ACCEPT_BOT_MESSAGES: optional(flag),
  CREDITS_ACCEPT_THREAD_REPLIES: optional(flag),
  CREDITS_ACCEPT_EDITS: optional(flag),
  LOOKER_CLIENT_ID: optional(z.string().min(1)),
  LOOKER_CLIENT_SECRET: optional(z.string().min(1)),
  LOOKER_BASE_URL: optional(httpUrl),
  CREDITS_LOOKER_HOST: optional(
    z
      .string()
      .trim()
      .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'a host name, e.g. example.cloud.looker.com'),
  ),
  CREDITS_QUERY_RUNNER: z.enum(['looker', 'trino', 'postgres']).default('looker'),
  CREDITS_TRINO_URL: optional(httpUrl),
  CREDITS_TRINO_USER: z.string().min(1).default('switchboard'),
  CREDITS_TRINO_CATALOG: optional(z.string().min(1)),
  CREDITS_TRINO_SCHEMA: optional(z.string().min(1)),
  CREDITS_QUERY_DATABASE_URL: optional(postgresUrl),
  CREDITS_VERIFY_PATTERNS: z.string().default('authy'),
  CREDITS_VERIFY_CALCULATOR: optional(z.enum(['notebook', 'builtin', 'none'])),
  CREDITS_PSMS_CALCULATOR: z.enum(['notebook', 'builtin', 'none']).default('none'),
  NOTEBOOK_PATH: optional(z.string().min(1)),
  CREDITS_PSMS_NOTEBOOK_PATH: optional(z.string().min(1)),
  CREDITS_NOTEBOOK_PARAMETER: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Python identifier')
    .default('looker'),
  CREDITS_NOTEBOOK_SUMMARY_HEADING: z.string().min(1).default('Summary Info'),
  CREDITS_NOTEBOOK_TIMEOUT_SECONDS: seconds.max(3600).default(300),
  CREDITS_JUPYTER_COMMAND: z.string().min(1).default('jupyter'),
  CREDITS_NOTEBOOK_KERNEL: z.string().min(1).default('python3'),
  CREDITS_NOTEBOOK_CONCURRENCY: positiveInt.max(64).default(2).describe('notebook runs at once per worker'),
  CREDITS_NOTEBOOK_ENV: z
    .string()
    .regex(/^[A-Za-z0-9_*,\s]*$/, 'comma-separated variable names (a trailing * matches a prefix)')
    .default('')
    .describe("variables the notebook's kernel sees, beyond PATH/HOME/LANG-like basics"),
  CREDITS_BLOCK_RATES: z.string().default('off=0,basic=0.416,standard=0.65,maximum=0.85'),
  CREDITS_KEEP_SQL: optional(flag),
  CREDITS_REPLY_TEMPLATE: z.string().min(1).max(2000).default('Approved, {amount}, exceptions'),
  CREDITS_REACTION_PROCESSING: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('eyes'),
  CREDITS_REACTION_DONE: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('white_check_mark'),
  CREDITS_REACTION_FAILED: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('x'),
  CREDITS_MODEL_MIN_REQUESTS: positiveInt
    .min(4)
    .max(1_000_000)
    .default(30)
    .describe('answered requests before a prediction is made'),
  CREDITS_MODEL_RETRAIN_CRON: z
    .string()
    .trim()
    .regex(/^(|\S+( \S+){4})$/, 'a cron expression of 5 fields (minute first), or empty for none')
    .default('0 3 * * *'),
  CREDITS_HOLD_OUTLIERS: optional(flag),
  CREDITS_APPROVERS: z
    .string()
    .regex(/^[UW0-9A-Z,\s]*$/, 'comma-separated Slack user ids')
    .default(''),
  CREDITS_REACTION_APPROVE: z
    .string()
    .regex(/^[a-z0-9_+'-]+$/)
    .default('heavy_check_mark'),
});

/** CreditBot: where requests come from, how queries are resolved and run, how credits are computed. */
export interface CreditsConfig {
  /** Watched Slack channels (ids, or names in the sandbox). */
  channels: string[];
  signingSecret: string | null;
  /** Socket Mode app token: set, requests also arrive over Socket Mode. */
  socketToken: string | null;
  pollIntervalMinutes: number;
  /** A poll reads this far behind its cursor again: edits to messages it already read. */
  pollEditLookbackMinutes: number;
  accept: { botMessages: boolean; threadReplies: boolean; edits: boolean };
  /** Operator who gets a DM when a request fails. */
  operator: string | null;
  /** null: the sandbox Looker over the sample table. */
  looker: { clientId: string; clientSecret: string; baseUrl: string } | null;
  /** The host whose links are requests (LOOKER_BASE_URL's host unless set). */
  lookerHost: string;
  runner:
    | { kind: 'looker' }
    | { kind: 'trino'; url: string; user: string; catalog: string | undefined; schema: string | undefined }
    | { kind: 'postgres'; url: string };
  verifyPatterns: RegExp[];
  calculators: { verify: CalculatorSetting; psms: CalculatorSetting };
  /** How notebooks run (the kernel's environment: the basics and what CREDITS_NOTEBOOK_ENV names). */
  notebook: NotebookSettings & { concurrency: number };
  /** Expected block rate per Fraud Guard mode, in basis points (0.416 -> 4160). */
  blockRates: Record<string, number>;
  replyTemplate: string;
  reactions: { processing: string; done: string; failed: string };
  /** Keep each query's SQL in the stored summary (its sha256 is always kept). */
  keepSql: boolean;
  /** The second opinion on each credit (prediction/). */
  model: CreditModelSettings;
}

export interface CreditModelSettings {
  /** Answered requests (with a per-mode table) before a prediction is made. */
  minRequests: number;
  /** When the model is trained again (pg-boss cron, UTC); null: only by `credits model train`. */
  retrainCron: string | null;
  /** A flagged request's thread reply waits for a person's approval. */
  holdOutliers: boolean;
  /** Slack users whose approval reaction releases a held reply (default: the operator). */
  approvers: string[];
  approveReaction: string;
}

export type CalculatorSetting = { kind: 'builtin' } | { kind: 'notebook'; path: string } | { kind: 'none' };

/** The sandbox Looker's host: links to it are requests when no Looker credentials are set. */
export const SANDBOX_LOOKER_HOST = 'looker.sandbox.localhost';
/** The sandbox Slack channel CreditBot watches when no channel is configured (ids are what Slack sends). */
export const SANDBOX_CREDITS_CHANNEL = { id: 'C0CREDITMEMO', name: 'credit_memo_testing' };
export const SANDBOX_CREDITS_OPERATOR = 'U0SANDBOXOP';

function creditsSettings(
  e: z.output<typeof creditsSchema>,
  { cwd, platform, raw, problem }: SettingsContext,
): CreditsConfig {
  const { channels } = platform;
  const list = (value: string) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  const watched = [
    ...new Set([...list(e.CREDITS_CHANNELS), ...(e.SLACK_TEST_CHANNEL ? [e.SLACK_TEST_CHANNEL] : [])]),
  ];
  if (watched.length === 0 && channels.slack.driver === 'sandbox') watched.push(SANDBOX_CREDITS_CHANNEL.id);

  let looker: CreditsConfig['looker'] = null;
  if (e.LOOKER_CLIENT_ID || e.LOOKER_CLIENT_SECRET) {
    if (!e.LOOKER_CLIENT_ID) problem('LOOKER_CLIENT_ID', 'required with LOOKER_CLIENT_SECRET');
    if (!e.LOOKER_CLIENT_SECRET) problem('LOOKER_CLIENT_SECRET', 'required with LOOKER_CLIENT_ID');
    if (!e.LOOKER_BASE_URL)
      problem('LOOKER_BASE_URL', 'required with Looker credentials, e.g. https://example.cloud.looker.com');
    looker = {
      clientId: e.LOOKER_CLIENT_ID ?? '',
      clientSecret: e.LOOKER_CLIENT_SECRET ?? '',
      baseUrl: e.LOOKER_BASE_URL ?? '',
    };
  }
  const lookerHost =
    e.CREDITS_LOOKER_HOST?.toLowerCase() ??
    (looker && e.LOOKER_BASE_URL ? new URL(e.LOOKER_BASE_URL).host.toLowerCase() : SANDBOX_LOOKER_HOST);

  let runner: CreditsConfig['runner'] = { kind: 'looker' };
  if (e.CREDITS_QUERY_RUNNER === 'trino') {
    if (!e.CREDITS_TRINO_URL) problem('CREDITS_TRINO_URL', 'required when CREDITS_QUERY_RUNNER=trino');
    runner = {
      kind: 'trino',
      url: e.CREDITS_TRINO_URL ?? '',
      user: e.CREDITS_TRINO_USER,
      catalog: e.CREDITS_TRINO_CATALOG,
      schema: e.CREDITS_TRINO_SCHEMA,
    };
  } else if (e.CREDITS_QUERY_RUNNER === 'postgres') {
    if (!e.CREDITS_QUERY_DATABASE_URL)
      problem('CREDITS_QUERY_DATABASE_URL', 'required when CREDITS_QUERY_RUNNER=postgres');
    runner = { kind: 'postgres', url: e.CREDITS_QUERY_DATABASE_URL ?? '' };
  }

  const verifyPatterns: RegExp[] = [];
  for (const pattern of list(e.CREDITS_VERIFY_PATTERNS)) {
    try {
      verifyPatterns.push(new RegExp(pattern, 'i'));
    } catch {
      problem('CREDITS_VERIFY_PATTERNS', `not a regular expression: ${pattern}`);
    }
  }
  if (verifyPatterns.length === 0) problem('CREDITS_VERIFY_PATTERNS', 'at least one pattern');

  const calculator = (
    variable: string,
    kind: 'notebook' | 'builtin' | 'none',
    file: string | undefined,
    fileVariable: string,
  ): CalculatorSetting => {
    if (kind !== 'notebook') return { kind };
    if (!file) {
      problem(fileVariable, `required when ${variable}=notebook`);
      return { kind: 'none' };
    }
    const resolved = path.resolve(cwd, file);
    if (!existsSync(resolved)) problem(fileVariable, `no such file: ${resolved}`);
    return { kind: 'notebook', path: resolved };
  };

  const blockRates: Record<string, number> = {};
  for (const entry of list(e.CREDITS_BLOCK_RATES)) {
    const match = /^([A-Za-z0-9_ -]+)=(0(?:\.\d{1,4})?|1(?:\.0{1,4})?)$/.exec(entry);
    if (!match) {
      problem(
        'CREDITS_BLOCK_RATES',
        `"${entry}" is not mode=rate with a rate from 0 to 1 (up to 4 decimals)`,
      );
      continue;
    }
    const [whole, fraction = ''] = (match[2] as string).split('.');
    blockRates[(match[1] as string).trim().toLowerCase()] =
      Number(whole) * 10000 + Number(fraction.padEnd(4, '0'));
  }

  return {
    channels: watched,
    signingSecret: e.SLACK_SIGNING_SECRET ?? null,
    socketToken: e.SLACK_APP_TOKEN ?? null,
    pollIntervalMinutes: e.CREDITS_POLL_INTERVAL_MINUTES,
    pollEditLookbackMinutes: e.CREDITS_POLL_EDIT_LOOKBACK_MINUTES,
    accept: {
      botMessages: e.CREDITS_ACCEPT_BOT_MESSAGES ?? false,
      threadReplies: e.CREDITS_ACCEPT_THREAD_REPLIES ?? false,
      edits: e.CREDITS_ACCEPT_EDITS ?? false,
    },
    // The sandbox has an operator too, so a new user sees the failure DM in GET /sandbox/messages.
    operator: e.SLACK_USER_ID ?? (channels.slack.driver === 'sandbox' ? SANDBOX_CREDITS_OPERATOR : null),
    looker,
    lookerHost,
    runner,
    verifyPatterns,
    calculators: {
      verify: calculator(
        'CREDITS_VERIFY_CALCULATOR',
        e.CREDITS_VERIFY_CALCULATOR ?? (e.NOTEBOOK_PATH ? 'notebook' : 'builtin'),
        e.NOTEBOOK_PATH,
        'NOTEBOOK_PATH',
      ),
      psms: calculator(
        'CREDITS_PSMS_CALCULATOR',
        e.CREDITS_PSMS_CALCULATOR,
        e.CREDITS_PSMS_NOTEBOOK_PATH,
        'CREDITS_PSMS_NOTEBOOK_PATH',
      ),
    },
    notebook: {
      parameter: e.CREDITS_NOTEBOOK_PARAMETER,
      summaryHeading: e.CREDITS_NOTEBOOK_SUMMARY_HEADING,
      timeoutMs: Math.round(e.CREDITS_NOTEBOOK_TIMEOUT_SECONDS * 1000),
      jupyter: e.CREDITS_JUPYTER_COMMAND,
      kernel: e.CREDITS_NOTEBOOK_KERNEL,
      env: kernelEnvironment(raw, list(e.CREDITS_NOTEBOOK_ENV)),
      concurrency: e.CREDITS_NOTEBOOK_CONCURRENCY,
    },
    blockRates,
    replyTemplate: e.CREDITS_REPLY_TEMPLATE,
    keepSql: e.CREDITS_KEEP_SQL ?? false,
    model: {
      minRequests: e.CREDITS_MODEL_MIN_REQUESTS,
      retrainCron: e.CREDITS_MODEL_RETRAIN_CRON || null,
      holdOutliers: e.CREDITS_HOLD_OUTLIERS ?? false,
      approvers: list(e.CREDITS_APPROVERS).length
        ? list(e.CREDITS_APPROVERS)
        : e.SLACK_USER_ID
          ? [e.SLACK_USER_ID]
          : [],
      approveReaction: e.CREDITS_REACTION_APPROVE,
    },
    reactions: {
      processing: e.CREDITS_REACTION_PROCESSING,
      done: e.CREDITS_REACTION_DONE,
      failed: e.CREDITS_REACTION_FAILED,
    },
  };
}

/** What any program needs to run; nothing of the service's own configuration or secrets. */
export const KERNEL_BASE_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TZ',
  'TMPDIR',
  'PYTHONPATH',
  'VIRTUAL_ENV',
];

/**
 * The notebook kernel's environment: an allowlist (the basics and the names or `PREFIX_*` patterns
 * given), so the kernel never sees DATABASE_URL, LOOKER_CLIENT_SECRET, SLACK_BOT_TOKEN and the rest
 * unless a deploy names them on purpose.
 */
export function kernelEnvironment(
  env: Record<string, string | undefined>,
  allowed: string[],
): Record<string, string> {
  const patterns = [...KERNEL_BASE_ENV, ...allowed];
  const matches = (name: string) =>
    patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && matches(entry[0]),
    ),
  );
}

export const creditsConfig = defineAppConfig({ schema: creditsSchema, settings: creditsSettings });
