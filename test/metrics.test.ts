import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppModule, defineApp } from '../src/platform/app-module.ts';
import { defineJob } from '../src/platform/jobs/registry.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

let running: TestService | undefined;
afterEach(async () => {
  await running?.dispose();
  running = undefined;
});

const counterApp: AppModule = defineApp({
  name: 'counter',
  jobs: { 'counter.tick': defineJob({ schema: z.object({ fail: z.boolean() }), retryLimit: 0 }) },
  setup: ({ jobs }) =>
    jobs.work('counter.tick', async ({ fail }) => {
      if (fail) throw new Error('tick failed');
    }),
  routes: (app) => {
    app.get('/counter/:id', async () => ({ ok: true }));
  },
});

/** The value of one series in Prometheus text format, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.slice(0, l.indexOf('}')).includes(pair)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/metrics', () => {
  it('counts requests by route template, jobs by queue and outcome, queue depth and process figures', async () => {
    running = await startTestService('pglite', { apps: [counterApp] });
    const { app, jobs } = running.service;
    for (const id of ['1', '2', '3']) await app.inject(`/counter/${id}`);
    await app.inject('/nowhere');
    await jobs.send('counter.tick', { fail: false });
    await jobs.send('counter.tick', { fail: false });
    await jobs.send('counter.tick', { fail: true });
    await jobs.send('counter.tick', { fail: false }, { startAfter: new Date(Date.now() + 3_600_000) });

    const scrape = async () => {
      const response = await app.inject('/metrics');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/plain');
      return response.body;
    };
    const text = await waitFor('three jobs to be counted', async () => {
      const body = await scrape();
      const done =
        (sample(body, 'jobs_processed_total', { queue: 'counter.tick', outcome: 'completed' }) ?? 0) +
        (sample(body, 'jobs_processed_total', { queue: 'counter.tick', outcome: 'failed' }) ?? 0);
      return done === 3 ? body : undefined;
    });

    expect(
      sample(text, 'http_requests_total', { method: 'GET', route: '/counter/:id', status_code: '200' }),
    ).toBe(3);
    expect(
      sample(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }),
    ).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/counter/:id' })).toBe(3);
    expect(sample(text, 'jobs_processed_total', { queue: 'counter.tick', outcome: 'completed' })).toBe(2);
    expect(sample(text, 'jobs_processed_total', { queue: 'counter.tick', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'job_duration_seconds_count', { queue: 'counter.tick', outcome: 'completed' })).toBe(
      2,
    );
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);

    // Queue counts come from pg-boss's monitor pass (every JOBS_MAINTENANCE_INTERVAL_SECONDS).
    const deferred = await waitFor('the deferred job to be counted', async () => {
      const value = sample(await scrape(), 'job_queue_depth', { queue: 'counter.tick', state: 'deferred' });
      return value === 1 ? value : undefined;
    });
    expect(deferred).toBe(1);
  });
});
