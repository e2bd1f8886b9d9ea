// Loaded into the server by `bench/chat.ts --count-queries` (NODE_OPTIONS=--import): counts the
// statements the server sends to PostgreSQL, by statement, so the bench can say how many database
// round trips a chat turn costs. A probe for the bench only, never loaded otherwise: it wraps pg's
// Client.query in the server's process. On SIGUSR2 it writes the counts so far to
// $BENCH_QUERY_COUNTS as JSON ({ at, counts }).
import { writeFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.BENCH_QUERY_COUNTS;
const counts: Record<string, number> = {};
type Query = (this: pg.Client, config: unknown, ...rest: unknown[]) => unknown;
const query = pg.Client.prototype.query as unknown as Query;

(pg.Client.prototype as unknown as { query: Query }).query = function (config, ...rest) {
  const named =
    typeof config === 'object' && config !== null ? (config as { name?: string; text?: string }) : null;
  const text = named ? (named.name ?? named.text ?? '') : String(config);
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 80);
  counts[key] = (counts[key] ?? 0) + 1;
  return query.call(this, config, ...rest);
};

if (file) process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify({ at: performance.now(), counts })));
