// Only what runs is loaded: the real CLI, started as a worker for one bot with no provider
// credentials, records every module it loads (ES modules and require(), through Node's module
// hooks: test/helpers/record-modules.ts). What it must not have loaded is what the process does
// not run: the other bots, the providers' SDKs, the HTTP documentation, the other database.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseKinds, type TestDatabase } from './helpers/databases.ts';
import { freePort, spawnCli } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

const RECORDER = fileURLToPath(new URL('./helpers/record-modules.ts', import.meta.url));
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Packages a sandbox-only, offline process has no use for, whichever bots it runs. */
const PROVIDER_SDKS = [
  'twilio',
  'stripe',
  '@slack/web-api',
  '@slack/socket-mode',
  '@sendgrid/mail',
  '@sendgrid/client',
  '@sendgrid/eventwebhook',
  'nodemailer',
  '@looker/sdk-node',
  '@looker/sdk',
  'trino-client',
  'ai',
  '@ai-sdk/openai',
  '@ai-sdk/anthropic',
  '@ai-sdk/amazon-bedrock',
  '@ai-sdk/openai-compatible',
];
/** The OpenTelemetry SDK and exporters: loaded only with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set. */
const TRACING_SDK = [
  '@opentelemetry/sdk-node',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/resources',
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@opentelemetry/otlp-exporter-base',
  '@grpc/grpc-js',
];
/** What only a process serving the API needs: a worker serves health and metrics over node:http. */
const HTTP_ONLY = [
  'fastify',
  'find-my-way',
  'avvio',
  'ajv',
  '@fastify/rate-limit',
  '@fastify/formbody',
  'fastify-type-provider-zod',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/static',
];

/** The packages among the loaded files (`.../node_modules/@scope/name/...` -> `@scope/name`). */
const packagesOf = (files: string[]) =>
  new Set(
    files.flatMap((file) => {
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      return match ? [match[1] as string] : [];
    }),
  );

describe.each(databaseKinds)('a worker for invoices only, sandbox channels, on %s', (kind) => {
  let target: TestDatabase | null = null;
  const recordFile = path.join(tmpdir(), `switchboard-modules-${process.pid}-${kind}.txt`);
  afterAll(async () => {
    rmSync(recordFile, { force: true });
    await target?.drop();
  });

  it('loads the invoices app and the platform, and none of the other bots, SDKs or HTTP docs', async () => {
    target = await createTestDatabase(kind);
    const port = await freePort();
    const worker = spawnCli(['worker'], {
      ...(target.config.kind === 'postgres'
        ? { DATABASE_URL: target.config.url }
        : { DATA_DIR: target.config.dataDir }),
      PORT: String(port),
      SWITCHBOARD_APPS: 'invoices',
      NODE_OPTIONS: `--import=${RECORDER}`,
      RECORD_MODULES_FILE: recordFile,
    });
    try {
      const info = await waitFor(
        `the worker to be ready (${worker.output()})`,
        async () => {
          const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
          return ready?.ok ? (await fetch(`http://127.0.0.1:${port}/info`)).json() : null;
        },
        90_000,
        100,
      );
      expect(info).toMatchObject({ mode: 'worker', apps: ['invoices'] });
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect((await worker.exited).code).toBe(0);

    // Each module once (the recorder notes every import of it).
    const files = [...new Set(readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map(decodeURI))];
    const ours = files.filter((file) => file.startsWith(`file://${SRC}`)).map((f) => f.slice(SRC.length + 7));
    // The recorder saw the process start: the CLI, the invoices app and its jobs.
    expect(ours).toEqual(expect.arrayContaining(['cli.ts', 'apps/invoices/app.ts', 'apps/invoices/jobs.ts']));
    // Of the other bots, only their variables' schemas (so a typo in them still stops the process).
    expect(ours.filter((file) => /^apps\/(daily|credits|payments)\//.test(file)).sort()).toEqual([
      'apps/credits/config.ts',
      'apps/daily/config.ts',
      'apps/payments/config.ts',
    ]);
    const packages = packagesOf(files);
    expect([...PROVIDER_SDKS, ...HTTP_ONLY, ...TRACING_SDK].filter((name) => packages.has(name))).toEqual([]);
    // Of tracing, only the no-op helpers every process calls through (@opentelemetry/api under them).
    expect(ours.filter((file) => file.startsWith('platform/tracing/'))).toEqual([
      'platform/tracing/tracing.ts',
    ]);
    // Nor the API's own routes: the outbox, sandbox and webhook handlers.
    expect(ours.filter((file) => /\/(routes|pay-page)\.ts$/.test(file) && !file.startsWith('apps/'))).toEqual(
      [],
    );
    // Nor the operator console: neither its engine nor any app's pages (imported by the console hook).
    expect(ours.filter((file) => /(^|\/)console(\/|\.ts$)/.test(file))).toEqual([]);
    // The database in use only, and drizzle's CommonJS build, never its slow-to-load ES modules.
    expect(packages.has('@electric-sql/pglite')).toBe(kind === 'pglite');
    expect(files.filter((file) => /\/node_modules\/drizzle-orm\/.*\.js$/.test(file))).toEqual([]);
    expect(packages.has('drizzle-orm')).toBe(true);
    // Of rate-limiter-flexible, the limiters pacing uses, never its index and every store it has.
    const limiters = files.flatMap(
      (file) => /\/rate-limiter-flexible\/((?:lib\/)?[A-Za-z]+\.js)$/.exec(file)?.[1] ?? [],
    );
    expect(limiters).toContain('lib/RateLimiterPostgres.js');
    expect(
      limiters.filter(
        (file) => file === 'index.js' || /Mongo|MySQL|Dynamo|Etcd|Prisma|Valkey|SQLite/.test(file),
      ),
    ).toEqual([]);
  }, 120_000);
});

describe('a command that answers from the command line alone', () => {
  const recordFile = path.join(tmpdir(), `switchboard-modules-${process.pid}-version.txt`);
  afterAll(() => rmSync(recordFile, { force: true }));

  it('`version` loads neither the service nor a database driver, the job system or the HTTP server', async () => {
    const done = await spawnCli(['version'], {
      NODE_OPTIONS: `--import=${RECORDER}`,
      RECORD_MODULES_FILE: recordFile,
    }).exited;
    expect(done.code).toBe(0);
    const files = [...new Set(readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map(decodeURI))];
    const ours = files.filter((file) => file.startsWith(`file://${SRC}`)).map((f) => f.slice(SRC.length + 7));
    expect(ours).toContain('cli.ts');
    expect(
      ours.filter((file) => /^(main|platform\/db\/database|platform\/jobs\/job-system)\.ts$/.test(file)),
    ).toEqual([]);
    const packages = packagesOf(files);
    expect(
      ['pg', 'pg-boss', 'drizzle-orm', 'fastify', '@electric-sql/pglite'].filter((name) =>
        packages.has(name),
      ),
    ).toEqual([]);
  });
});
