// PayBot: a chat that collects what a payment needs, confirms it and charges it with Stripe, with
// the card entered only in Stripe's own UI (PCI DSS: card data never lands in our systems).
import { z } from 'zod';
import { defineApp } from '../../platform/app-module.ts';
import { adminGuard } from '../../platform/http/admin-auth.ts';
import { defineJob } from '../../platform/jobs/registry.ts';
import { registerApiKeyRoutes } from './api-key-routes.ts';
import { type ChatDeps, createSessionLocks } from './chat.ts';
import { eraseSessions } from './erasure.ts';
import { registerErasureRoutes } from './erasure-routes.ts';
import { type FreeTextInterpreter, ruleOnlyInterpreter } from './interpreter.ts';
import { createPaymentMetrics } from './metrics.ts';
import { modelInterpreter } from './model-interpreter.ts';
import { loadPageSecret } from './page-token.ts';
import { registerRefundRoutes } from './refund-routes.ts';
import { retryUnansweredRefunds } from './refunds.ts';
import { registerPaymentRoutes } from './routes.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { deleteExpiredSessions } from './store.ts';
import { createStripe } from './stripe-gateway.ts';

export const paymentJobs = {
  // Expired sessions are answered as expired for a day (so the customer hears why), then removed when
  // they never sent a charge; those that did lose the person's data after CHAT_RETENTION_DAYS.
  'payments.sweep-sessions': defineJob({ schema: z.object({}), policy: 'singleton', retryLimit: 1 }),
  // Refunds Stripe did not answer (network, 5xx after the SDK's retries): read back, then sent again.
  'payments.retry-refunds': defineJob({ schema: z.object({}), policy: 'singleton', retryLimit: 1 }),
};

/** The app with another free-text interpreter (the platform's language-model layer, or a test's). */
export function createPaymentsApp(options: { interpreter?: FreeTextInterpreter } = {}) {
  const state = new WeakMap<object, ChatDeps>();
  return defineApp({
    name: 'payments',
    jobs: paymentJobs,
    setup: async (context) => {
      const { config, db, log, jobs, ai } = context;
      const appLog = log.child({ app: 'payments' });
      const stripe = await createStripe(config.payments.stripe, config.channels.providerTimeoutMs);
      if (!stripe) appLog.warn('STRIPE_SECRET_KEY is not set: PayBot chats but cannot take card payments');
      state.set(context, {
        db,
        stripe,
        config: config.payments,
        // The model only when one is configured: offline, the rules answer alone.
        interpreter:
          options.interpreter ??
          (ai.describe().provider === 'offline'
            ? ruleOnlyInterpreter
            : modelInterpreter(ai, config.payments.defaultCurrency)),
        log: appLog,
        locks: createSessionLocks(),
        metrics: createPaymentMetrics(context.metrics),
      });
      jobs.work('payments.sweep-sessions', async () => {
        const deleted = await deleteExpiredSessions(db.orm);
        const retention = await eraseSessions(db, { retentionDays: config.payments.retentionDays });
        if (retention.erased > 0) appLog.info({ ...retention }, 'sessions past retention erased');
        return { deleted, erased: retention.erased };
      });
      jobs.work('payments.retry-refunds', () => retryUnansweredRefunds({ db, stripe, log: appLog }));
    },
    started: async ({ jobs }) => {
      await jobs.schedule('payments.sweep-sessions', '17 * * * *', {});
      await jobs.schedule('payments.retry-refunds', '*/5 * * * *', {});
    },
    routes: async (app, context) => {
      const chat = state.get(context);
      if (!chat) throw new Error('payments: setup did not run');
      registerPaymentRoutes(app, {
        chat,
        config: context.config,
        db: context.db,
        pageSecret: await loadPageSecret(context.db),
      });
      const guard = adminGuard(context.config.adminToken);
      registerApiKeyRoutes(app, { db: context.db, guard });
      registerErasureRoutes(app, { db: context.db, guard });
      registerSessionRoutes(app, { db: context.db, guard });
      registerRefundRoutes(app, { db: context.db, stripe: chat.stripe, log: chat.log, guard });
    },
    console: async (ui, context) => (await import('./console.ts')).addConsole(ui, { db: context.db }),
  });
}

export const paymentsApp = createPaymentsApp();
