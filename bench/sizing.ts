// What an `http` and a `worker` process need, for the Kubernetes requests and limits: each one's
// RSS and CPU idle, then under load. The real CLI runs both roles as separate processes on a scratch
// PostgreSQL database with sandbox channels; the load is an invoice scan queuing `--invoices` x 2
// alerts (email and SMS) that the worker delivers, while clients read the invoice list from the API
// (`--clients` concurrent requests). CPU is in millicores (1000 = one core), from /proc's counters
// over each window; RSS is the peak sampled every 100 ms.
//
//   node bench/sizing.ts [--invoices 5000] [--clients 4]
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  createScratchDatabase,
  freePort,
  npmScriptArgs,
  positiveIntArg,
  postgresReachable,
  round,
} from './support.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { invoices: { type: 'string' }, clients: { type: 'string' } } });
const INVOICES = positiveIntArg(values.invoices, 5000, 'invoices');
const CLIENTS = positiveIntArg(values.clients, 4, 'clients');
const IDLE_MS = 10_000;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Role {
  mode: 'http' | 'worker';
  child: ChildProcess;
  url: string;
}

const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const rssMiB = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** Runs `during` while sampling each role: peak RSS and mean CPU over the window. */
async function observe(roles: Role[], during: () => Promise<void>) {
  const start = roles.map((r) => cpuTicks(r.child.pid as number));
  const peaks = roles.map((r) => rssMiB(r.child.pid as number));
  const began = performance.now();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      roles.forEach((r, i) => {
        peaks[i] = Math.max(peaks[i] as number, rssMiB(r.child.pid as number));
      });
      await sleep(100);
    }
  })();
  await during();
  done = true;
  await sampler;
  const seconds = (performance.now() - began) / 1000;
  return roles.map((r, i) => ({
    mode: r.mode,
    rssMiB: round(peaks[i] as number),
    cpuMillicores: round(
      ((cpuTicks(r.child.pid as number) - (start[i] as number)) / TICKS_PER_SECOND / seconds) * 1000,
    ),
    seconds: round(seconds, 1),
  }));
}

async function startRole(mode: Role['mode'], env: Record<string, string>): Promise<Role> {
  const port = await freePort();
  // As `npm start` runs it, with the mode changed (npm run worker's heap flags are for a worker pod).
  const child = spawn(process.execPath, [...npmScriptArgs('start').slice(0, -1), mode], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`${mode} exited with ${child.exitCode}`);
    if ((await fetch(`${url}/health/ready`).catch(() => null))?.ok) return { mode, child, url };
  }
  throw new Error(`${mode} not ready after 120 s`);
}

if (!(await postgresReachable())) {
  console.log('PostgreSQL is not reachable (BENCH_DATABASE_URL): nothing measured');
  process.exit(0);
}
const db = await createScratchDatabase();
const roles: Role[] = [];
try {
  const env = {
    DATABASE_URL: db.url,
    SWITCHBOARD_APPS: 'invoices',
    NOTIFICATION_RECIPIENTS: 'ap@example.com,+14155550100',
    SMS_SEGMENTS_PER_SECOND: '10000',
    REVIEW_NOTIFICATION_INTERVAL: '1440',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
  };
  roles.push(await startRole('http', env)); // first: it applies the migrations
  roles.push(await startRole('worker', env));
  const [api] = roles as [Role];
  const load = loadavg();

  await sleep(3000);
  const idle = await observe(roles, () => sleep(IDLE_MS));

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    `insert into invoices (id, vendor_name, total_minor, currency, matched_status, invoice_link)
     select 'INV-' || lpad(i::text, 7, '0'), 'Vendor ' || (i % 997), 1000 + i * 7, 'USD', 'NEEDS_REVIEW',
            'https://ap.example.com/invoices/' || i
       from generate_series(1, $1) as i`,
    [INVOICES],
  );
  let requests = 0;
  const loaded = await observe(roles, async () => {
    let delivering = true;
    const readers = Array.from({ length: CLIENTS }, async () => {
      while (delivering) {
        await (await fetch(`${api.url}/invoices?limit=100`)).arrayBuffer();
        requests += 1;
      }
    });
    const scan = await fetch(`${api.url}/invoices/scans`, { method: 'POST' });
    if (scan.status !== 201) throw new Error(`scan answered ${scan.status}`);
    for (const deadline = Date.now() + 600_000; Date.now() < deadline; await sleep(500)) {
      const { rows } = await client.query<{ left: string }>(
        "select count(*) as left from outbox_messages where status in ('queued', 'sending')",
      );
      if (Number(rows[0]?.left) === 0) break;
    }
    delivering = false;
    await Promise.all(readers);
  });
  const { rows } = await client.query<{ n: string }>(
    "select count(*) as n from outbox_messages where status = 'delivered'",
  );
  await client.end();

  console.log(
    `\nsizing on PostgreSQL, ${new Date().toISOString().slice(0, 10)}, load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  for (const [label, list] of [
    ['idle', idle],
    ['loaded', loaded],
  ] as const)
    for (const r of list)
      console.log(
        `  ${r.mode.padEnd(6)} ${label.padEnd(6)}  RSS ${String(r.rssMiB).padStart(6)} MiB (peak)  CPU ${String(r.cpuMillicores).padStart(5)}m  over ${r.seconds} s`,
      );
  const seconds = loaded[0]?.seconds ?? 1;
  console.log(
    `  load: ${rows[0]?.n} of ${INVOICES * 2} alerts delivered, ${round(Number(rows[0]?.n) / seconds)}/s; ${requests} API reads, ${round(requests / seconds)}/s from ${CLIENTS} clients`,
  );
  console.log(JSON.stringify({ benchmark: 'sizing', invoices: INVOICES, clients: CLIENTS, idle, loaded }));
} finally {
  for (const role of roles) role.child.kill('SIGTERM');
  await Promise.all(
    roles.map(
      (r) =>
        new Promise((resolve) => (r.child.exitCode !== null ? resolve(0) : r.child.once('exit', resolve))),
    ),
  );
  await db.drop();
}
