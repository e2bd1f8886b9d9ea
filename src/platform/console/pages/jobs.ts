// Jobs: every queue with pg-boss's counts, a queue's failed jobs with payload and error, retry.
// Written on the job system rather than mounting @pg-boss/dashboard: the dashboard is a React
// Router app with its own pg connection (it cannot reach the embedded PGlite without a socket
// server) and would add React, Hono and a second login to a console that needs three tables.
import { notFound } from '../../errors.ts';
import { retryFailedJob } from '../../jobs/routes.ts';
import { actionForm, badge, count, jsonBlock, link, section, table, time } from '../components.ts';
import { html } from '../html.ts';
import type { ActionDefinition, PageDefinition } from '../ui.ts';
import type { PlatformPageDeps } from './deps.ts';

export function jobsPages(deps: PlatformPageDeps): { pages: PageDefinition[]; actions: ActionDefinition[] } {
  const page: PageDefinition = {
    path: '/console/jobs',
    title: 'Jobs',
    nav: 'Jobs',
    live: true,
    async render(view) {
      const queues = await deps.jobs.queueCounts();
      const selected = queues.find((q) => q.name === view.query.queue);
      const failed = selected ? await deps.jobs.failedJobs(selected.name, 50) : [];
      return html`${table(
        'Queues and their dead-letter queues',
        [
          { label: 'Queue', cell: (q) => link(`/console/jobs?queue=${encodeURIComponent(q.name)}`, q.name) },
          { label: 'Kind', cell: (q) => (q.deadLetter ? 'dead letters' : 'work') },
          { label: 'Ready', cell: (q) => count(q.ready), numeric: true },
          { label: 'Deferred', cell: (q) => count(q.deferred), numeric: true },
          { label: 'Active', cell: (q) => count(q.active), numeric: true },
          { label: 'Failed', cell: (q) => count(q.failed), numeric: true },
          { label: 'Stored', cell: (q) => count(q.total), numeric: true },
        ],
        queues,
      )}
${
  selected
    ? section(
        `Failed jobs in ${selected.name}`,
        table(
          'Newest first',
          [
            { label: 'Failed', cell: (j) => time(j.completedOn) },
            { label: 'Job', cell: (j) => html`<code>${j.id}</code>` },
            { label: 'Retries', cell: (j) => j.retryCount, numeric: true },
            { label: 'Payload', cell: (j) => jsonBlock(j.data) },
            { label: 'Error', cell: (j) => jsonBlock(j.output) },
            {
              label: '',
              cell: (j) =>
                actionForm('/console/jobs/retry', 'Retry', view.csrf, { queue: selected.name, id: j.id }),
            },
          ],
          failed,
          'No failed jobs kept for this queue.',
        ),
      )
    : html`<p>Choose a queue to see its failed jobs. ${badge('failed')} counts are what pg-boss still keeps (its retention period).</p>`
}`;
    },
  };
  const retry: ActionDefinition = {
    path: '/console/jobs/retry',
    name: 'jobs.retry',
    confirm: async (view) => `Run job ${view.form.id ?? ''} of ${view.form.queue ?? ''} again?`,
    async run(view) {
      const { queue = '', id = '' } = view.form;
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound(`Job ${id}`);
      await retryFailedJob(deps.jobs, queue, id);
      return {
        message: `Job ${id} of ${queue} queued again.`,
        target: id,
        redirect: `/console/jobs?queue=${encodeURIComponent(queue)}`,
      };
    },
  };
  return { pages: [page], actions: [retry] };
}
