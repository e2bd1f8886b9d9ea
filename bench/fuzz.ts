// `node bench/fuzz.ts [--runs 500] [--seed 1] [--postgres]`: the schema-driven fuzzer of
// test/fuzz.test.ts, run long. Every operation in /openapi.json gets `--runs` generated requests
// (almost-valid bodies with one hostile value, broken encodings, wrong types and content types,
// signed webhook bodies). Prints the request count, the 5xx count and the count of 4xx answers
// without the error envelope (goal: 0 and 0), with the first few of each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { APP_NAMES, loadApps } from '../src/apps/index.ts';
import { loadConfig } from '../src/config.ts';
import { startService } from '../src/main.ts';
import { createLogger } from '../src/platform/log.ts';
import { fuzzOperations, operationsOf } from '../test/fuzz/openapi-fuzz.ts';
import { WEBHOOK_EXAMPLES, webhookSigning } from '../test/fuzz/webhook-signing.ts';
import { BENCH_DATABASE_URL, positiveIntArg, postgresReachable } from './support.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string' }, seed: { type: 'string' }, postgres: { type: 'boolean' } },
});
const runs = positiveIntArg(values.runs, 500, 'runs');
const seed = positiveIntArg(values.seed, 1, 'seed');

const signing = webhookSigning();
const dataDir = mkdtempSync(path.join(tmpdir(), 'switchboard-fuzz-'));
let databaseUrl: string | null = null;
if (values.postgres && (await postgresReachable())) {
  const name = `sb_fuzz_${process.pid}`;
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
}

const config = loadConfig({
  LOG_LEVEL: 'silent',
  PORT: '0',
  DATA_DIR: dataDir,
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  ...signing.env,
});
const service = await startService({
  config,
  log: createLogger({ log: { level: 'silent', format: 'json' } }),
  mode: 'http',
  apps: await loadApps(APP_NAMES),
  listen: false,
});
const app = service.app;
const operations = operationsOf((await app.inject('/openapi.json')).json());
const started = performance.now();
const report = await fuzzOperations({ inject: (request) => app.inject(request) }, operations, {
  seed,
  runsPerOperation: runs,
  examples: WEBHOOK_EXAMPLES,
  sign: signing.sign,
});
const seconds = (performance.now() - started) / 1000;
await service.stop();
rmSync(dataDir, { recursive: true, force: true });
if (databaseUrl) {
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
  await admin.end();
}

console.log(
  `database: ${databaseUrl ? 'postgres' : 'pglite'}, operations: ${operations.length}, seed: ${seed}`,
);
console.log(`requests: ${report.requests} in ${seconds.toFixed(1)} s`);
console.log(`5xx: ${report.serverErrors.length}`);
console.log(`4xx without the envelope: ${report.missingEnvelope.length}`);
console.log(`by status: ${JSON.stringify(report.byStatus)}`);
for (const problem of [...report.serverErrors, ...report.missingEnvelope].slice(0, 10))
  console.log(
    JSON.stringify({ ...problem.request, status: problem.status, body: problem.body }).slice(0, 600),
  );
process.exitCode = report.serverErrors.length || report.missingEnvelope.length ? 1 : 0;
