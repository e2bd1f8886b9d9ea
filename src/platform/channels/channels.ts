// The channels as one platform component: drivers chosen from config, the outbox and its jobs,
// inbound SMS, webhooks and the operator and sandbox routes. Apps get `Channels` in their context.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import { type Tx, withTransaction } from '../db/transaction.ts';
import { adminGuard } from '../http/admin-auth.ts';
import type { JobSystem } from '../jobs/job-system.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { TemplateRegistry } from './content.ts';
import { createDrivers } from './drivers.ts';
import { handleInboundSms, type InboundAction, type InboundSms, type InboundSmsHandler } from './inbound.ts';
import { coalesce } from './outbox/coalesce.ts';
import {
  claimMany,
  type DeliverDeps,
  deliverMessage,
  type Precondition,
  recordMany,
  type SentRecord,
} from './outbox/deliver.ts';
import {
  accepted,
  type BulkEnqueueResult,
  type EnqueueInput,
  type EnqueueResult,
  enqueueMessage,
  enqueueMessages,
} from './outbox/enqueue.ts';
import type { OutboxJobs } from './outbox/jobs.ts';
import { createLeaseKeeper } from './outbox/lease.ts';
import { recoverStranded } from './outbox/recovery.ts';
import { createPacer } from './pacing.ts';
import type { Channel, Drivers } from './types.ts';

export interface Channels {
  /** The driver in use per channel: the provider's name, or `sandbox`. */
  readonly driverNames: Record<Channel, string>;
  readonly drivers: Drivers;
  /** Queues a message (in `tx` when given); see EnqueueInput. */
  enqueue(input: EnqueueInput, tx?: Tx): Promise<EnqueueResult>;
  /** Queues many messages in a few statements; one result per input, invalid ones rejected with reasons. */
  enqueueMany(inputs: EnqueueInput[], tx?: Tx): Promise<BulkEnqueueResult[]>;
  /**
   * Registers a check the outbox runs just before sending a message whose `meta.precondition` names
   * it: it returns null to send, or the reason not to (the message ends `cancelled`).
   */
  registerPrecondition(name: string, check: Precondition): void;
  /** Adds templates apps can name in `enqueue({ template, data })`. */
  registerTemplates(templates: TemplateRegistry): void;
  /** Receives inbound SMS that are not opt-out, opt-in or help keywords. */
  onInboundSms(handler: InboundSmsHandler): void;
  /**
   * Handles an inbound SMS (from a webhook or the sandbox) in one transaction with `receipt`, which
   * records it as received (returning false for one seen before: then nothing happens).
   */
  receiveSms(
    message: InboundSms,
    receipt?: (tx: Tx) => Promise<boolean>,
  ): Promise<InboundAction | 'duplicate'>;
  /** Starts the delivery workers and the sweeps (worker processes). */
  startWorkers(): Promise<void>;
  /** Stops the recovery sweep (before the job system drains on shutdown). */
  stopWorkers(): Promise<void>;
  /** Adds the outbox, sandbox and webhook routes; their code is imported only by processes that serve them. */
  registerRoutes(app: FastifyInstance): Promise<void>;
}

export interface ChannelsDeps {
  config: Config;
  db: Database;
  jobs: JobSystem<OutboxJobs>;
  log: Logger;
  metrics: Metrics;
  redis: Redis | null;
  /** Drivers to use instead of the configured ones (tests). */
  drivers?: Partial<Drivers>;
}

export async function createChannels(deps: ChannelsDeps): Promise<Channels> {
  const { config, db, jobs, log, metrics } = deps;
  const drivers: Drivers = { ...(await createDrivers(config, db)), ...deps.drivers };
  const driverNames = { sms: drivers.sms.name, email: drivers.email.name, slack: drivers.slack.name };
  const templates: TemplateRegistry = {};
  const inboundHandlers: InboundSmsHandler[] = [];
  const pacer = createPacer({ perSecond: config.sms.segmentsPerSecond, db, redis: deps.redis });
  const enqueueDeps = { db, jobs, config, templates, metrics };
  // Enqueues made outside a caller's transaction at about the same moment (requests, handlers)
  // share one transaction: each still gets its own result, or its own error for bad input.
  const enqueueTogether = coalesce(async (inputs: EnqueueInput[]) => {
    const results = await enqueueMessages(enqueueDeps, inputs);
    return new Map(inputs.map((input, index) => [input, results[index]]));
  });
  const enqueue = async (input: EnqueueInput, tx?: Tx): Promise<EnqueueResult> =>
    tx ? enqueueMessage(enqueueDeps, input, tx) : accepted(input, await enqueueTogether(input));
  const preconditions = new Map<string, Precondition>();
  const inboundLog = log.child({ inbound: 'sms' });
  const receiveSms = (message: InboundSms, receipt?: (tx: Tx) => Promise<boolean>) =>
    withTransaction(db, async (tx): Promise<InboundAction | 'duplicate'> => {
      if (receipt && !(await receipt(tx))) return 'duplicate';
      return handleInboundSms({ tx, enqueue, config, handlers: inboundHandlers, log: inboundLog }, message);
    });

  log.info({ channels: driverNames, pacing: pacer.store }, 'channel drivers');
  for (const [channel, name] of Object.entries(driverNames)) {
    if (name === 'sandbox')
      log.warn({ channel }, `${channel} uses the SANDBOX: nothing is really sent until credentials are set`);
  }

  const leases = createLeaseKeeper({ db, leaseMs: config.outbox.leaseMs, log });
  const deliverDeps: DeliverDeps = { db, jobs, drivers, pacer, leases, metrics, config, preconditions };
  // The deliveries of one fetched batch start in the same turn of the event loop: their claims
  // become one transaction, and records that finish within a few milliseconds one statement.
  deliverDeps.claimer = coalesce((ids: string[]) => claimMany(deliverDeps, ids, new Date()));
  const record = coalesce(
    async (records: SentRecord[]) => {
      await recordMany(deliverDeps, records);
      return new Map(records.map((r) => [r, undefined]));
    },
    { windowMs: 2 },
  );
  deliverDeps.recorder = (sent) => record(sent);
  jobs.work('outbox.deliver', async ({ id }, context) => {
    const outcome = await deliverMessage(deliverDeps, id, context);
    return { outcome };
  });
  // Every worker looks for messages nobody is delivering a few times a lease (see recovery.ts), so
  // a killed worker's are sent again within about a lease and a half, not a job expiry. Two
  // workers finding the same row is harmless: the claim takes it once.
  const recover = async () => {
    const found = await recoverStranded({ db, jobs }, { leaseMs: config.outbox.leaseMs });
    if (found.lapsed) {
      metrics.outboxRecovered.inc({ kind: 'lapsed_lease' }, found.lapsed);
      log.warn(
        { count: found.lapsed },
        'outbox recovered messages whose send attempt stopped renewing its lease',
      );
    }
    if (found.stale) {
      metrics.outboxRecovered.inc({ kind: 'stale_queued' }, found.stale);
      log.info(
        { count: found.stale },
        'outbox queued again messages due for over a lease that no delivery has claimed',
      );
    }
    return found;
  };
  // Earlier versions ran the sweep from a cron schedule; a sweep job still queued from one does
  // what the timer below does.
  jobs.work('outbox.sweep', async () => recover());
  let recoverySweep: NodeJS.Timeout | null = null;
  const sweepOnce = async () => {
    try {
      await recover();
    } catch (error) {
      log.warn({ err: error }, 'outbox recovery sweep failed; it runs again shortly');
    }
  };

  return {
    driverNames,
    drivers,
    enqueue,
    enqueueMany: (inputs, tx) => enqueueMessages(enqueueDeps, inputs, tx),
    registerPrecondition(name, check) {
      if (preconditions.has(name)) throw new Error(`Precondition "${name}" is registered twice`);
      preconditions.set(name, check);
    },
    registerTemplates(more) {
      for (const name of Object.keys(more)) {
        if (templates[name]) throw new Error(`Template "${name}" is registered twice`);
      }
      Object.assign(templates, more);
    },
    onInboundSms(handler) {
      inboundHandlers.push(handler);
    },
    receiveSms,
    async startWorkers() {
      // The timer in every worker covers what the minute cron of earlier versions did (queued rows
      // whose job was lost), sooner: that schedule would only repeat its work.
      await jobs.unschedule('outbox.sweep');
      recoverySweep ??= setInterval(() => void sweepOnce(), recoveryIntervalMs(config.outbox.leaseMs));
      recoverySweep.unref();
    },
    async stopWorkers() {
      if (recoverySweep) clearInterval(recoverySweep);
      recoverySweep = null;
    },
    async registerRoutes(app) {
      const [{ registerOutboxRoutes }, { registerSandboxRoutes }, { registerWebhookRoutes }] =
        await Promise.all([
          import('./outbox/routes.ts'),
          import('./sandbox/routes.ts'),
          import('./webhooks/routes.ts'),
        ]);
      const guard = adminGuard(config.adminToken);
      registerOutboxRoutes(app, { db, guard, jobs });
      registerSandboxRoutes(app, {
        db,
        guard,
        drivers: driverNames,
        smsNumber: config.channels.sms.driver === 'sandbox' ? config.channels.sms.from : '',
        defaultRegion: config.sms.defaultRegion,
        receiveSms,
      });
      registerWebhookRoutes(app, { config, db, log, metrics, receiveSms });
    },
  };
}

/** A third of the lease, between 1 and 15 seconds. */
const recoveryIntervalMs = (leaseMs: number) => Math.min(15_000, Math.max(1000, Math.floor(leaseMs / 3)));
