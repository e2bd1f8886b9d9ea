// What the routes, jobs and CLI ask of CreditBot beyond intake: run one request now (message text or
// a Slack permalink), retry a failed one, poll once, and the sandbox Slack channel's posts.
import { randomInt } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { sandboxMessages } from '../../platform/channels/schema.ts';
import { slackError } from '../../platform/channels/slack/slack-driver.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError, invalidInput, notFound } from '../../platform/errors.ts';
import { linksIn } from './compute.ts';
import { SANDBOX_CREDITS_CHANNEL } from './config.ts';
import {
  type IntakeDeps,
  type IntakeResult,
  intakeMessage,
  queueRequest,
  type SlackMessage,
} from './intake.ts';
import { untilFinished } from './notebook-queue.ts';
import { type PollResult, pollChannels } from './poll.ts';
import { creditAnalytics } from './prediction/analytics.ts';
import { approveByReaction, approveHeldReply } from './prediction/approve.ts';
import { insertAnsweredRequests } from './prediction/store.ts';
import { type HistoryOptions, syntheticHistory } from './prediction/synthetic.ts';
import { evaluateCreditModel, type TrainTrigger, trainCreditModel } from './prediction/train.ts';
import { CLI_CHANNEL, type ProcessDeps, processRequest } from './process.ts';
import type { CreditRequestRow } from './schema.ts';
import { getRequest, requeueRequest } from './store.ts';

export interface CreditService {
  runText(text: string): Promise<CreditRequestRow>;
  runPermalink(permalink: string): Promise<CreditRequestRow>;
  retry(id: string): Promise<CreditRequestRow>;
  pollOnce(): Promise<PollResult[]>;
  postSandboxMessage(channel: string, text: string): Promise<{ channel: string; ts: string }>;
  /** The second opinion (prediction/): approvals, training, evaluation, analytics, synthetic history. */
  /** A held reply posted as computed, or with a person's corrected amount (`correctedCents`). */
  approve(
    id: string,
    approval: { by: string; via?: 'api' | 'console'; correctedCents?: number | null },
  ): ReturnType<typeof approveHeldReply>;
  approveByReaction(event: Parameters<typeof approveByReaction>[1]): ReturnType<typeof approveByReaction>;
  trainModel(trigger: TrainTrigger): ReturnType<typeof trainCreditModel>;
  evaluateModel(): ReturnType<typeof evaluateCreditModel>;
  analytics(options?: Parameters<typeof creditAnalytics>[1]): ReturnType<typeof creditAnalytics>;
  /** SYNTHETIC answered requests recorded as history (the sandbox), then a model trained on them. */
  loadSyntheticHistory(
    options: Pick<HistoryOptions, 'seed' | 'count'>,
  ): Promise<{ inserted: number; train: Awaited<ReturnType<typeof trainCreditModel>> }>;
}

/** A Slack-style ts, unique enough for messages that did not come from Slack. */
const syntheticTs = () => {
  const micros = Date.now() * 1000 + randomInt(1000);
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
};

/** `https://x.slack.com/archives/C123/p1700000000123456` (a thread reply adds ?thread_ts=...). */
export function parsePermalink(permalink: string): { channel: string; ts: string; threadTs?: string } | null {
  let url: URL;
  try {
    url = new URL(permalink);
  } catch {
    return null;
  }
  const match = /\/archives\/([A-Z0-9]+)\/p(\d{7,})(\d{6})$/.exec(url.pathname);
  if (!match) return null;
  const threadTs = url.searchParams.get('thread_ts') ?? undefined;
  return { channel: match[1] as string, ts: `${match[2]}.${match[3]}`, ...(threadTs ? { threadTs } : {}) };
}

export function createCreditService(
  deps: ProcessDeps & { intake: IntakeDeps; client: WebClient | null },
): CreditService {
  const { db } = deps;
  const runNow = async (id: string) => {
    // Notebooks run on their own queue (perhaps in a worker of their own) even now: wait for them.
    if ((await processRequest(deps, id, { final: true })) === 'waiting')
      await untilFinished(db, id, deps.config.notebook.timeoutMs * 3 + 120_000);
    const row = await getRequest(db.orm, id);
    if (!row) throw notFound(`Credit request ${id}`);
    return row;
  };

  const fetchMessage = async (
    channel: string,
    ts: string,
    threadTs?: string,
  ): Promise<SlackMessage | undefined> => {
    if (!deps.client) {
      const rows = await db.query<{ content: SlackMessage }>(
        `select content from sandbox_messages where channel = 'slack' and direction = 'inbound'
           and recipient = $1 and content->>'ts' = $2 limit 1`,
        [channel, ts],
      );
      return rows[0]?.content;
    }
    try {
      const page = threadTs
        ? await deps.client.conversations.replies({
            channel,
            ts: threadTs,
            oldest: ts,
            latest: ts,
            inclusive: true,
            limit: 1,
          })
        : await deps.client.conversations.history({
            channel,
            oldest: ts,
            latest: ts,
            inclusive: true,
            limit: 1,
          });
      return (page.messages ?? []).find((m) => m.ts === ts) as SlackMessage | undefined;
    } catch (error) {
      throw new AppError('provider_unavailable', `Slack: ${slackError(error).message}`);
    }
  };

  return {
    async runText(text) {
      if (linksIn(text, deps.config).length === 0)
        throw invalidInput(`The text has no Looker link on ${deps.config.lookerHost}`, [
          { field: 'body.text', message: 'no Looker link' },
        ]);
      const queued = await queueRequest(
        deps.intake,
        { channel: CLI_CHANNEL, ts: syntheticTs(), text, intake: 'cli' },
        undefined,
        {
          job: false,
        },
      );
      if (queued.outcome !== 'queued') throw new AppError('conflict', 'Try again: the request id was taken');
      return runNow(queued.id);
    },

    async runPermalink(permalink) {
      const where = parsePermalink(permalink);
      if (!where)
        throw invalidInput('Not a Slack message permalink', [
          {
            field: 'body.permalink',
            message: 'expected https://<workspace>.slack.com/archives/<channel>/p<digits>',
          },
        ]);
      const message = await fetchMessage(where.channel, where.ts, where.threadTs);
      if (!message) throw notFound(`Slack message ${where.channel}/${where.ts}`);
      const text = message.text ?? '';
      if (linksIn(text, deps.config).length === 0)
        throw invalidInput(`The message has no Looker link on ${deps.config.lookerHost}`, [
          { field: 'body.permalink', message: 'no Looker link in that message' },
        ]);
      const queued = await queueRequest(
        deps.intake,
        {
          channel: where.channel,
          ts: where.ts,
          ...(where.threadTs && where.threadTs !== where.ts ? { threadTs: where.threadTs } : {}),
          text,
          intake: 'cli',
        },
        undefined,
        { job: false },
      );
      // Already a request (by any intake): it is answered, or being answered, once; show it.
      if (queued.outcome !== 'queued') {
        const existing =
          queued.outcome === 'duplicate' && queued.id ? await getRequest(db.orm, queued.id) : undefined;
        if (!existing) throw notFound(`Credit request for ${where.channel}/${where.ts}`);
        return existing;
      }
      return runNow(queued.id);
    },

    async retry(id) {
      const row = await withTransaction(db, async (tx) => {
        const requeued = await requeueRequest(tx, id);
        if (requeued && requeued.channel !== CLI_CHANNEL)
          await deps.intake.jobs.send('credits.process', { id }, { tx, singletonKey: id });
        return requeued;
      });
      if (!row) {
        const existing = await getRequest(db.orm, id);
        if (!existing) throw notFound(`Credit request ${id}`);
        throw new AppError(
          'conflict',
          `Credit request ${id} is ${existing.status}: only a failed request can be retried`,
        );
      }
      // A CLI request has no worker-side message to answer: it runs here.
      return row.channel === CLI_CHANNEL ? runNow(id) : row;
    },

    pollOnce: () => pollChannels({ ...deps.intake, client: deps.client }),

    approve: (id, { via = 'api', ...approval }) => approveHeldReply(deps, id, { ...approval, via }),
    approveByReaction: (event) => approveByReaction(deps, event),
    trainModel: (trigger) => trainCreditModel(db, deps.config.model, trigger),
    evaluateModel: () => evaluateCreditModel(db, deps.config.model),
    analytics: (options) => creditAnalytics(db, options),
    async loadSyntheticHistory(options) {
      const history = syntheticHistory({
        ...options,
        blockRates: deps.config.blockRates,
        host: deps.config.lookerHost,
        // Ending now, so the weeks and months read as recent.
        start: new Date((Math.floor(Date.now() / 86_400_000) - 181) * 86_400_000),
      });
      const inserted = await insertAnsweredRequests(db.orm, history);
      return { inserted, train: await trainCreditModel(db, deps.config.model, 'api') };
    },

    async postSandboxMessage(channel, text) {
      const ts = syntheticTs();
      await db.orm.insert(sandboxMessages).values({
        channel: 'slack',
        direction: 'inbound',
        sender: 'USANDBOX01',
        recipient: channel,
        content: { ts, text, user: 'USANDBOX01' },
      });
      return { channel, ts };
    },
  };
}

/**
 * A message posted to a sandbox Slack channel as a person would post it, then taken in as any
 * watched message is: the sandbox route's work and the console composer's, written once.
 * `channel` is a channel id or `#credit_memo_testing`.
 */
export async function postSandboxRequest(
  intake: IntakeDeps,
  postMessage: CreditService['postSandboxMessage'],
  channel: string,
  text: string,
): Promise<{ channel: string; ts: string } & IntakeResult> {
  const named = channel.trim().replace(/^#/, '');
  const id = named === SANDBOX_CREDITS_CHANNEL.name ? SANDBOX_CREDITS_CHANNEL.id : named;
  if (!/^[CG][A-Z0-9]{2,}$/.test(id))
    throw invalidInput('`channel` is not a Slack channel id', [
      {
        field: 'body.channel',
        message: `a channel id such as ${SANDBOX_CREDITS_CHANNEL.id}, or #${SANDBOX_CREDITS_CHANNEL.name}`,
      },
    ]);
  const posted = await postMessage(id, text);
  const result = await intakeMessage(
    intake,
    posted.channel,
    { ts: posted.ts, text, user: 'USANDBOX01' },
    'sandbox',
  );
  return { ...posted, ...result };
}
