// What bench/chat.ts reads about the server from outside it: the service's /metrics histograms, the
// CPU of the server, of its PostgreSQL backends and of the rest of the machine (from /proc). Nothing
// here changes the server: it is measured as it runs in production.
import { readdirSync, readFileSync } from 'node:fs';
import { round } from './support.ts';

/** Cumulative bucket counts (upper bound in ms -> count), plus sum (seconds) and count. */
export interface Hist {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/** One histogram summed over the series whose labels include every one of `labels`. */
export function readHistogram(text: string, metric: string, labels: string[] = []): Hist {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric) || !labels.every((label) => line.includes(label))) continue;
    const value = Number(line.split(' ').pop());
    const le = line.match(/le="([^"]+)"/);
    if (line.startsWith(`${metric}_bucket`) && le) {
      const bound = le[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(le[1]) * 1000;
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${metric}_sum`)) sum += value;
    else if (line.startsWith(`${metric}_count`)) count += value;
  }
  return { buckets, sum, count };
}

/** A gauge's value (the first series whose labels include every one of `labels`), NaN when absent. */
export function readGauge(text: string, metric: string, labels: string[] = []): number {
  for (const line of text.split('\n'))
    if (
      line.startsWith(`${metric} `) ||
      (line.startsWith(`${metric}{`) && labels.every((l) => line.includes(l)))
    )
      return Number(line.split(' ').pop());
  return Number.NaN;
}

export function diff(a: Hist, b: Hist): Hist {
  const buckets = new Map<number, number>();
  for (const [le, n] of b.buckets) buckets.set(le, n - (a.buckets.get(le) ?? 0));
  return { buckets, sum: b.sum - a.sum, count: b.count - a.count };
}

/**
 * The q-quantile's bucket (`lower` < value <= `le`) and an estimate within it by linear
 * interpolation, as Prometheus's histogram_quantile() computes it: exact to the bucket, a guess inside.
 */
export function quantile(h: Hist, q: number): { lower: number; le: number; estimate: number } {
  const target = h.count * q;
  let lower = 0;
  let below = 0;
  for (const [le, n] of [...h.buckets].sort((x, y) => x[0] - y[0])) {
    if (n >= target && n > 0) {
      const estimate =
        le === Number.POSITIVE_INFINITY ? lower : lower + ((le - lower) * (target - below)) / (n - below);
      return { lower, le, estimate };
    }
    lower = le;
    below = n;
  }
  return { lower, le: Number.POSITIVE_INFINITY, estimate: lower };
}

/** The share of observations at or under `ms`, exact when `ms` is a bucket bound (else null). */
export function shareWithin(h: Hist, ms: number): number | null {
  const n = h.buckets.get(ms);
  return n === undefined || h.count === 0 ? null : n / h.count;
}

/** "mean 1.31 ms, p50 ~0.9 ms (0-1), p99 ~7.6 ms (5-10), 99.7% <= 25 ms". */
export function describe(h: Hist, withinMs: number): string {
  const ms = (value: number) => (value === Number.POSITIVE_INFINITY ? 'inf' : String(value));
  const at = (q: number) => {
    const { lower, le, estimate } = quantile(h, q);
    return `~${round(estimate, 1)} ms (${ms(lower)}-${ms(le)} bucket)`;
  };
  const share = shareWithin(h, withinMs);
  return `mean ${round((h.sum / Math.max(1, h.count)) * 1000, 2)} ms, p50 ${at(0.5)}, p99 ${at(0.99)}${share === null ? '' : `, ${round(share * 100, 2)}% <= ${withinMs} ms`}`;
}

/** CPU time (user + system) of a process so far, in ms; 0 once it is gone. */
function ticksMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks a second
  } catch {
    return 0;
  }
}

/** CPU time all cores have spent busy so far (user, nice, system, irq, softirq, steal), in ms. */
function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = (
    readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  )
    .trim()
    .split(/\s+/)
    .map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
}

/** The PostgreSQL backends serving database `name` (their process title names it). */
function backendsOf(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${name} `)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * CPU used over a phase, in ms: the server, this process (the load generator), when `database` is
 * given the PostgreSQL backends serving it, and everything else on the machine (`others`: other
 * people's work on the same cores, PostgreSQL's own background processes, the kernel's). Backends come and go with the server's pool, so they
 * are sampled every second; one that exits loses at most its last second.
 */
export function cpuMeter(serverPid: number, database: string | null) {
  const t0 = performance.now();
  const server0 = ticksMs(serverPid);
  const self0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  // Backends present at the start count from their CPU then; one first seen later started meanwhile.
  const backends = new Map<number, { first: number; last: number }>();
  let starting = true;
  const sample = () => {
    if (!database) return;
    for (const pid of backendsOf(database)) {
      const now = ticksMs(pid);
      const seen = backends.get(pid);
      if (seen) seen.last = Math.max(seen.last, now);
      else backends.set(pid, { first: starting ? now : 0, last: now });
    }
    starting = false;
  };
  sample();
  const timer = setInterval(sample, 1000);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const self = process.cpuUsage(self0);
      let postgres = 0;
      for (const { first, last } of backends.values()) postgres += last - first;
      const server = ticksMs(serverPid) - server0;
      const generator = (self.user + self.system) / 1000;
      return {
        wallMs: performance.now() - t0,
        server,
        generator,
        postgres: database ? postgres : null,
        others: Math.max(0, machineBusyMs() - machine0 - server - generator - postgres),
      };
    },
  };
}
