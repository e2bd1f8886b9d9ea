// Daily messages: one short uplifting SMS a day to every subscriber, at a random time inside their
// own local window, written by a language model (or the offline library), never repeated.
import { defineApp } from '../../platform/app-module.ts';
import { adminGuard } from '../../platform/http/admin-auth.ts';
import { cleanupDaily } from './cleanup.ts';
import { handleSubscriberSms } from './inbound.ts';
import { dailyJobs } from './jobs.ts';
import { createDailyMetrics, type DailyMetrics } from './metrics.ts';
import { type PlanDeps, planDaily } from './planning.ts';
import { SUBSCRIBED_PRECONDITION, stillSubscribed } from './precondition.ts';
import { releaseDue } from './release.ts';
import { registerDailyRoutes } from './routes.ts';

export const dailyApp = defineApp({
  name: 'daily',
  jobs: dailyJobs,
  setup: (context) => {
    const { config, db, log, channels, jobs, ai } = context;
    const appLog = log.child({ app: 'daily' });
    const metrics: DailyMetrics = createDailyMetrics(context.metrics);
    const planDeps: PlanDeps = { db, channels, ai, config, log: appLog, metrics };
    const cleanup = () =>
      cleanupDaily(db.orm, {
        now: new Date(),
        horizonDays: config.daily.repeatHorizonDays,
        outboxRetentionDays: config.daily.outboxRetentionDays,
      });
    state.set(context, { planDeps, cleanup });

    channels.registerPrecondition(SUBSCRIBED_PRECONDITION, (metas, tx) => stillSubscribed(tx, metas));
    channels.onInboundSms((message, tx) =>
      handleSubscriberSms(
        { enqueue: channels.enqueue, helpText: config.daily.helpText, metrics },
        message,
        tx,
      ),
    );
    jobs.work('daily.plan', async () => {
      const result = await planDaily(planDeps);
      return { planned: result.planned, overQuota: result.overQuota };
    });
    jobs.work('daily.release', async () => ({
      released: await releaseDue({ db, channels, log: appLog }),
    }));
    jobs.work('daily.cleanup', async () => {
      const removed = await cleanup();
      appLog.info(removed, 'daily cleanup');
      return removed;
    });
  },
  started: async ({ jobs, config }) => {
    // Hourly by default: each zone's next local day is planned as soon as its previous window closes.
    await jobs.schedule('daily.plan', config.daily.planCron, { trigger: 'schedule' });
    // Every minute: planned messages enter the outbox a few minutes before their send time.
    await jobs.schedule('daily.release', '* * * * *', {});
    await jobs.schedule('daily.cleanup', config.daily.cleanupCron, {});
  },
  routes: (app, context) => {
    const { planDeps, cleanup } = stateOf(context);
    registerDailyRoutes(app, {
      db: context.db,
      guard: adminGuard(context.config.adminToken),
      defaults: { window: context.config.daily.window, defaultRegion: context.config.sms.defaultRegion },
      configPerMinute: context.config.daily.configPerMinute,
      plan: () => planDaily(planDeps),
      cleanup,
    });
  },
  console: async (ui, context) => {
    const { planDeps } = stateOf(context);
    (await import('./console.ts')).addConsole(ui, { db: context.db, plan: () => planDaily(planDeps) });
  },
});

const state = new WeakMap<object, { planDeps: PlanDeps; cleanup: () => Promise<unknown> }>();
function stateOf(context: object) {
  const found = state.get(context);
  if (!found) throw new Error('daily: setup did not run');
  return found;
}
