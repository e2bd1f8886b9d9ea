// CreditBot: a Slack credit request in a watched channel becomes one thread reply with the credit,
// computed from the Looker queries it links to. Without Slack or Looker credentials it runs against
// the sandbox Slack channel and the sandbox Looker, so the whole loop works after `npm start`.
import { defineApp } from '../../platform/app-module.ts';
import { createSlackAccess } from '../../platform/channels/slack/slack-client.ts';
import { adminGuard } from '../../platform/http/admin-auth.ts';
import { everyMinutes } from '../../platform/jobs/every-minutes.ts';
import { createRunTracker, type RunTracker, sweepScratch } from './calculators/notebook-runner.ts';
import type { IntakeDeps } from './intake.ts';
import { creditJobs, PROCESS_RETRY_LIMIT } from './jobs.ts';
import { createCreditMetrics } from './metrics.ts';
import { queuedNotebooks, runNotebookJob } from './notebook-queue.ts';
import { initCursors } from './poll.ts';
import { latestModel } from './prediction/store.ts';
import { type ProcessDeps, processRequest } from './process.ts';
import type { QueryRunner } from './query-source.ts';
import { registerCreditRoutes } from './routes.ts';
import { sandboxLookerSource, seedSampleTraffic } from './sandbox-looker.ts';
import { type CreditService, createCreditService } from './service.ts';
import type { SocketIntake } from './socket.ts';
import { tracedSource } from './traced-source.ts';

interface CreditState {
  intake: IntakeDeps;
  service: CreditService;
  runner: QueryRunner | undefined;
  socket: SocketIntake | null;
  runs: RunTracker;
}

export const creditsApp = defineApp({
  name: 'credits',
  jobs: creditJobs,
  setup: async (context) => {
    const { config, db, jobs, channels } = context;
    const settings = config.credits;
    const log = context.log.child({ app: 'credits' });
    const metrics = createCreditMetrics(context.metrics);
    const slack = await createSlackAccess(config, db);
    const timeoutMs = config.channels.providerTimeoutMs;
    // The Looker SDK, trino-client and Socket Mode are imported only when configured.
    const runner =
      settings.runner.kind === 'looker'
        ? undefined
        : (await import('./runners.ts')).createRunner(settings.runner, timeoutMs);
    const looker = settings.looker;
    const lookerSource = looker ? (await import('./looker.ts')).lookerSource : null;
    const openSource =
      looker && lookerSource
        ? () => tracedSource(lookerSource(looker, { timeoutMs, ...(runner ? { runner } : {}) }), 'looker')
        : () => tracedSource(sandboxLookerSource(db, runner), 'sandbox');
    if (!looker)
      log.warn(`Looker uses the SANDBOX: links to https://${settings.lookerHost} read sample data`);
    const intake: IntakeDeps = { db, jobs, config: settings, metrics, channels };
    const runs = createRunTracker();
    const notebookDeps = { db, jobs, settings: settings.notebook, runs };
    const processDeps: ProcessDeps = {
      db,
      channels,
      slack,
      config: settings,
      log,
      metrics,
      openSource,
      notebooks: (row) => queuedNotebooks(notebookDeps, row),
    };
    const service = createCreditService({ ...processDeps, intake, client: slack.client });
    state.set(context, { intake, service, runner, socket: null, runs });

    jobs.work('credits.process', async ({ id }, job) => ({
      outcome: await processRequest(processDeps, id, { final: job.attempt >= PROCESS_RETRY_LIMIT }),
    }));
    jobs.work('credits.poll', async () => ({ channels: await service.pollOnce() }));
    jobs.work('credits.model.train', async ({ trigger }) => {
      // At start only a database without a model trains (the schedule keeps it fresh after).
      if (trigger === 'start' && (await latestModel(db.orm)))
        return { trained: false, reason: 'has a model' };
      const result = await service.trainModel(trigger);
      log.info(
        result.trained
          ? { version: result.version, requests: result.requests, mae: result.evaluation.overall.maeCents }
          : { requests: result.requests, reason: result.reason },
        result.trained ? 'credit model trained' : 'credit model not trained',
      );
      return result.trained ? { version: result.version } : { reason: result.reason };
    });
    jobs.work('credits.notebook', (payload, job) => runNotebookJob(notebookDeps, payload, job), {
      concurrency: settings.notebook.concurrency,
    });
  },
  started: async (context) => {
    const { config, db, jobs } = context;
    const settings = config.credits;
    const found = stateOf(context);
    // What a killed worker's runs left: the SQL and rows of requests, and kernel connection files.
    if (jobs.runsQueue('credits.notebook')) {
      const swept = await sweepScratch();
      if (swept.length)
        context.log.info({ folders: swept.length }, 'removed notebook scratch folders left behind');
    }
    // A notebook-only worker: polling, the socket and the sandbox belong to the other processes.
    if (jobs.filtersOut('credits.process')) return;
    if (!settings.looker) await seedSampleTraffic(db);
    if (settings.model.retrainCron)
      await jobs.schedule('credits.model.train', settings.model.retrainCron, { trigger: 'schedule' });
    else await jobs.unschedule('credits.model.train');
    await jobs.send('credits.model.train', { trigger: 'start' });
    await initCursors(found.intake);
    if (settings.pollIntervalMinutes > 0) {
      await jobs.schedule('credits.poll', everyMinutes(settings.pollIntervalMinutes), {
        trigger: 'schedule',
      });
      // The catch-up: whatever was posted while no process was running.
      await jobs.send('credits.poll', { trigger: 'start' });
    }
    if (settings.socketToken && config.channels.slack.driver === 'slack') {
      const { startSocketIntake } = await import('./socket.ts');
      found.socket = startSocketIntake({
        appToken: settings.socketToken,
        apiUrl: config.channels.slack.apiUrl,
        intake: found.intake,
        log: context.log.child({ app: 'credits', intake: 'socket' }),
        onReaction: (event) => found.service.approveByReaction(event),
      });
    }
  },
  routes: (app, context) => {
    const { intake, service } = stateOf(context);
    registerCreditRoutes(app, {
      intake,
      service,
      guard: adminGuard(context.config.adminToken),
      platformMetrics: context.metrics,
      eventsPerMinute: context.config.webhooks.statusPerMinute,
      sandbox:
        context.config.channels.slack.driver === 'sandbox'
          ? { postMessage: service.postSandboxMessage, loadHistory: service.loadSyntheticHistory }
          : null,
    });
  },
  console: async (ui, context) => {
    const { intake, service } = stateOf(context);
    (await import('./console.ts')).addConsole(ui, {
      intake,
      service,
      sandboxSlack: context.config.channels.slack.driver === 'sandbox',
    });
  },
  stop: async (context) => {
    const found = state.get(context);
    // After the job system's graceful stop: whatever notebook still runs is ended, and waited for.
    await found?.runs.stop(10_000);
    await found?.socket?.stop();
    await found?.runner?.close();
  },
});

/** What setup built, for the later hooks of the same process. */
const state = new WeakMap<object, CreditState>();
function stateOf(context: object): CreditState {
  const found = state.get(context);
  if (!found) throw new Error('credits: setup did not run');
  return found;
}
