// `switchboard credits run <message text or permalink>`, `credits poll --once` and
// `credits retry <id>`: through the service API (in-process, or the running server's), so they
// validate and process exactly as the API does.
import type { CliIo, Connect } from '../../platform/cli/app-command.ts';
import { formatMoney } from '../../platform/money.ts';
import { parseDollars } from './correction.ts';
import { demoReport, evaluationLines } from './prediction/demo.ts';
import type { Evaluation } from './prediction/evaluate.ts';

export const CREDITS_USAGE = `Usage:
  switchboard credits run <message text or Slack permalink>
                                      compute one request now and print the result; a permalink's
                                      message is also answered in its thread (once, ever)
  switchboard credits poll --once     read the watched channels since the last pass, queue new requests
  switchboard credits retry <id>      try a failed request again
  switchboard credits approve <id> --by <name> [--amount <dollars>]
                                      post a held reply (CREDITS_HOLD_OUTLIERS), recorded as approved by <name>;
                                      with --amount, the credit posted is that amount (the reply says who corrected it)
  switchboard credits model train     train the prediction model on the answered requests now
  switchboard credits model evaluate  time-ordered cross-validation: MAE, interval coverage, flagged
  switchboard credits model demo [--count N] [--seed S]
                                      the prediction on SYNTHETIC history, in memory (nothing stored)`;

interface RequestView {
  id: string;
  status: string;
  amountCents: number | null;
  error: string | null;
  prediction?: { amountCents: number; lowCents: number; highCents: number; modelVersion: number } | null;
  predictionNote?: string | null;
  flag?: { reason: string } | null;
  summary: {
    amount: string;
    links: Array<{
      link: string;
      status: string;
      product: string;
      calculator: string;
      creditCents?: number;
      reason?: string;
    }>;
  } | null;
}

const NOT_CREDITED: Record<string, string> = {
  skipped: 'skipped',
  same_query: 'counted once',
  unreadable: 'not read',
};

const cents = (value: number) =>
  `$${Math.floor(value / 100).toLocaleString('en-US')}.${String(value % 100).padStart(2, '0')}`;

/** Exit codes: 0 answered, 1 the request failed, 2 usage or input the API refused. */
export async function creditsCommand(args: string[], connect: Connect, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(CREDITS_USAGE);
    return 0;
  }
  if (sub === 'run' && rest.length > 0) {
    const input = rest.join(' ').trim();
    const body = /^https?:\/\/[^\s]*\/archives\/[A-Z0-9]+\/p\d+/.test(input)
      ? { permalink: input }
      : { text: input };
    const { api } = await connect();
    return report(await api('POST', '/credits/requests', body), io);
  }
  if (sub === 'poll' && rest.length === 1 && rest[0] === '--once') {
    const { api, where } = await connect();
    const response = await api('POST', '/credits/poll');
    if (response.status >= 400) return refused(response, io);
    const { channels } = response.body as {
      channels: Array<{ channel: string; seen: number; queued: number }>;
    };
    if (channels.length === 0) io.out('No channels are watched (CREDITS_CHANNELS).');
    for (const c of channels)
      io.out(`${c.channel}: ${c.seen} new message(s), ${c.queued} request(s) queued (${where}).`);
    return 0;
  }
  if (sub === 'retry' && rest.length === 1) {
    const { api } = await connect();
    return report(await api('POST', `/credits/requests/${encodeURIComponent(rest[0] as string)}/retry`), io);
  }
  if (sub === 'approve') return approveCommand(rest, connect, io);
  if (sub === 'model') return modelCommand(rest, connect, io);
  io.err(CREDITS_USAGE);
  return 2;
}

/**
 * `--name value` pairs, each name one of `names`; null for anything else (an unknown flag, a flag
 * without its value, a stray word).
 */
function flagPairs<N extends string>(args: string[], names: readonly N[]): Partial<Record<N, string>> | null {
  const options: Partial<Record<N, string>> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]?.replace(/^--/, '') as N;
    const value = args[i + 1];
    if (!args[i]?.startsWith('--') || !names.includes(name) || value === undefined) return null;
    options[name] = value;
  }
  return options;
}

/** `approve <id> --by <name> [--amount <dollars>]`: as computed, or with a person's correction. */
async function approveCommand(args: string[], connect: Connect, io: CliIo): Promise<number> {
  const [id, ...flags] = args;
  const options = flagPairs(flags, ['by', 'amount']);
  if (!id || !options?.by) {
    io.err(CREDITS_USAGE);
    return 2;
  }
  let amountCents: number | undefined;
  if (options.amount !== undefined) {
    const read = parseDollars(options.amount);
    if ('error' in read) {
      io.err(`--amount: ${read.error}`);
      return 2;
    }
    amountCents = read.cents;
  }
  const { api } = await connect();
  const response = await api('POST', `/credits/requests/${encodeURIComponent(id)}/approve`, {
    by: options.by,
    ...(amountCents === undefined ? {} : { amountCents }),
  });
  if (response.status >= 400) return refused(response, io);
  io.out(
    amountCents === undefined
      ? `Approved: the reply to request ${id} is on its way.`
      : `Corrected to ${formatMoney(amountCents, 'USD')} and approved: the reply to request ${id} is on its way.`,
  );
  return 0;
}

async function modelCommand(args: string[], connect: Connect, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'demo') {
    const flags = flagPairs(rest, ['count', 'seed']);
    const options = { count: Number(flags?.count ?? 1000), seed: Number(flags?.seed ?? 20) };
    if (!flags || ![options.count, options.seed].every((value) => Number.isInteger(value) && value >= 0)) {
      io.err(CREDITS_USAGE);
      return 2;
    }
    if (options.count < 20 || options.count > 100_000) {
      io.err('--count: from 20 to 100000 requests');
      return 2;
    }
    for (const line of demoReport(options)) io.out(line);
    return 0;
  }
  if ((sub === 'train' || sub === 'evaluate') && rest.length === 0) {
    const { api, where } = await connect();
    const response =
      sub === 'train'
        ? await api('POST', '/credits/model/train', { trigger: 'cli' })
        : await api('GET', '/credits/model/evaluate');
    if (response.status >= 400) return refused(response, io);
    const body = response.body as {
      trained?: boolean;
      evaluated?: boolean;
      version?: number;
      requests: number;
      reason?: string;
      evaluation?: Evaluation;
    };
    if (body.reason) {
      io.err(`No model: ${body.reason}.`);
      return 1;
    }
    if (sub === 'train')
      io.out(`Model version ${body.version} trained on ${body.requests} requests (${where}).`);
    io.out('Time-ordered cross-validation (5 folds, each trained only on the requests before it):');
    for (const line of evaluationLines(body.evaluation as Evaluation)) io.out(line);
    return 0;
  }
  io.err(CREDITS_USAGE);
  return 2;
}

function refused(response: { status: number; body: unknown }, io: CliIo): number {
  const error = (response.body as { error?: { message?: string; details?: Array<{ message: string }> } })
    ?.error;
  const details = error?.details?.map((d) => d.message).join('; ');
  io.err(
    `Refused (HTTP ${response.status}): ${error?.message ?? 'unknown error'}${details ? ` (${details})` : ''}`,
  );
  return response.status >= 500 ? 1 : 2;
}

function report(response: { status: number; body: unknown }, io: CliIo): number {
  if (response.status >= 400) return refused(response, io);
  const request = response.body as RequestView;
  if (request.status === 'failed') {
    io.err(`Request ${request.id} failed: ${request.error}`);
    return 1;
  }
  if (request.status !== 'done' || !request.summary) {
    io.out(`Request ${request.id} is ${request.status}.`);
    return 0;
  }
  io.out(`Credit: ${request.summary.amount} (request ${request.id})`);
  if (request.prediction)
    io.out(
      `  Second opinion (model ${request.prediction.modelVersion}): ${cents(request.prediction.lowCents)}-${cents(request.prediction.highCents)}`,
    );
  else if (request.predictionNote) io.out(`  Second opinion: ${request.predictionNote}`);
  if (request.flag) io.out(`  Flagged: ${request.flag.reason}`);
  for (const link of request.summary.links) {
    io.out(
      link.status === 'credited'
        ? `  ${link.link}: ${cents(link.creditCents ?? 0)} (${link.product}, ${link.calculator})`
        : `  ${link.link}: ${NOT_CREDITED[link.status] ?? link.status}, ${link.reason}`,
    );
  }
  return 0;
}
