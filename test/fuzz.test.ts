// Schema-driven fuzzing of every operation in /openapi.json (test/fuzz/openapi-fuzz.ts): generated
// malformed requests, a fixed seed and a bounded count, against the full service with every bot and
// every signed webhook on. No answer may be a 5xx, and every 4xx must be the error envelope.
// `node bench/fuzz.ts` runs the same generator for longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAMES, loadApps } from '../src/apps/index.ts';
import { fuzzOperations, operationsOf } from './fuzz/openapi-fuzz.ts';
import { WEBHOOK_EXAMPLES, webhookSigning } from './fuzz/webhook-signing.ts';
import { TEST_DATABASE_URL } from './helpers/databases.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const kind = TEST_DATABASE_URL ? 'postgres' : 'pglite';

describe(`schema-driven fuzzing on ${kind}`, () => {
  let running: TestService;
  const signing = webhookSigning();

  beforeAll(async () => {
    running = await startTestService(kind, {
      apps: await loadApps(APP_NAMES),
      env: signing.env,
      mode: 'http',
    });
  });
  afterAll(() => running?.dispose());

  it('answers every generated request to every operation below 500, with the envelope on every 4xx', async () => {
    const app = running.service.app;
    const operations = operationsOf((await app.inject('/openapi.json')).json());
    // Every bot's routes and the signed webhooks are in the document, so all of them are fuzzed.
    expect(operations.length).toBeGreaterThan(35);
    const report = await fuzzOperations({ inject: (request) => app.inject(request) }, operations, {
      seed: 1414,
      runsPerOperation: 30,
      examples: WEBHOOK_EXAMPLES,
      sign: signing.sign,
    });
    const show = (problems: typeof report.serverErrors) =>
      problems.slice(0, 5).map((p) => ({ ...p.request, status: p.status, body: p.body }));
    expect(show(report.serverErrors)).toEqual([]);
    expect(show(report.missingEnvelope)).toEqual([]);
    expect(report.requests).toBe(operations.length * 30);
    // The requests reached the code behind the checks, not only the validators.
    expect(Object.keys(report.byStatus).some((status) => Number(status) < 300)).toBe(true);
  }, 120_000);
});
