// Invoice review alerts: find invoices that need manual review and tell the AP team by email and
// SMS, once per invoice, recipient and channel.
import { defineApp } from '../../platform/app-module.ts';
import { adminGuard } from '../../platform/http/admin-auth.ts';
import { everyMinutes } from '../../platform/jobs/every-minutes.ts';
import { invoiceJobs } from './jobs.ts';
import { createInvoiceMetrics, type InvoiceMetrics } from './metrics.ts';
import { parseRecipients } from './recipients.ts';
import { registerInvoiceRoutes } from './routes.ts';
import { NEEDS_REVIEW_PRECONDITION, type ScanDeps, scanInvoices } from './scan.ts';
import { externalSource, type InvoiceSource, localSource } from './source.ts';
import { invoiceTemplates } from './templates.ts';

export const invoicesApp = defineApp({
  name: 'invoices',
  jobs: invoiceJobs,
  setup: (context) => {
    const { config, db, log, channels, jobs } = context;
    const appLog = log.child({ app: 'invoices' });
    const source: InvoiceSource = config.invoices.source
      ? externalSource(config.invoices.source, appLog)
      : localSource(db);
    const metrics: InvoiceMetrics = createInvoiceMetrics(context.metrics);
    const deps: ScanDeps = { db, channels, source, config, log: appLog, metrics };
    state.set(context, { deps, source });

    const recipients = parseRecipients(config.invoices.recipients, config.sms.defaultRegion);
    for (const bad of recipients.invalid)
      appLog.warn({ entry: bad.entry, reason: bad.reason }, 'NOTIFICATION_RECIPIENTS entry will be skipped');

    channels.registerTemplates(invoiceTemplates(config));
    channels.registerPrecondition(NEEDS_REVIEW_PRECONDITION, async (metas, tx) => {
      const ids = metas.map((meta) => String(meta.invoiceId));
      const still = await source.stillNeedingReview(ids, tx);
      return ids.map((id) => (still.has(id) ? null : `invoice ${id} no longer needs review`));
    });
    jobs.work('invoices.scan', async ({ trigger }) => {
      const scan = await scanInvoices(deps, trigger);
      return { scanId: scan.id, enqueued: scan.enqueued };
    });
  },
  started: async ({ jobs, config }) => {
    await jobs.schedule('invoices.scan', everyMinutes(config.invoices.intervalMinutes), {
      trigger: 'schedule',
    });
  },
  routes: (app, context) => {
    const { deps } = stateOf(context);
    registerInvoiceRoutes(app, {
      db: context.db,
      guard: adminGuard(context.config.adminToken),
      scan: () => scanInvoices(deps, 'api'),
    });
  },
  console: async (ui, context) => {
    const { deps, source } = stateOf(context);
    (await import('./console.ts')).addConsole(ui, {
      db: context.db,
      config: context.config,
      sourceKind: source.kind,
      scan: (trigger) => scanInvoices(deps, trigger),
    });
  },
  stop: async (context) => {
    await state.get(context)?.source.close();
  },
});

/** What setup built, for the later hooks of the same process. */
const state = new WeakMap<object, { deps: ScanDeps; source: InvoiceSource }>();
function stateOf(context: object) {
  const found = state.get(context);
  if (!found) throw new Error('invoices: setup did not run');
  return found;
}
