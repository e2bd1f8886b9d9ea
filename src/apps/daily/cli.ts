// `switchboard daily import <file.csv>` and `switchboard daily plan --once`. Both talk to the daily
// API (in-process, or the running server's), so they validate and write exactly as the API does.
import { readFileSync } from 'node:fs';
import { CsvHeaderError, parseSubscriberCsv } from './csv-import.ts';
import { MAX_BULK } from './routes.ts';
import type { SubscriberDefaults } from './subscribers.ts';

export type Api = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  progress: (line: string) => void;
}

export const DAILY_USAGE = `Usage:
  switchboard daily import <file.csv>   add subscribers from a CSV file (header row: phone, and
                                        optionally time_zone, window, name, language); a number
                                        already subscribed is updated
  switchboard daily plan --once         plan every subscriber's next local day now, then exit`;

/** Exit codes: 0 done, 1 some rows or the run failed, 2 usage or an unreadable file. */
export async function dailyCommand(
  args: string[],
  defaults: SubscriberDefaults,
  connect: () => Promise<{ api: Api; where: string }>,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(DAILY_USAGE);
    return 0;
  }
  if (sub === 'import' && rest.length === 1) return importCsv(rest[0] as string, defaults, connect, io);
  if (sub === 'plan' && rest.length === 1 && rest[0] === '--once') {
    const { api, where } = await connect();
    const response = await api('POST', '/daily/plan');
    const body = response.body as { planned?: number; overQuota?: number };
    if (response.status >= 400) {
      io.err(`Planning failed: ${JSON.stringify(response.body)}`);
      return 1;
    }
    io.out(`Planned ${where}: ${body.planned} message(s) queued, ${body.overQuota} over DAILY_QUOTA.`);
    return 0;
  }
  io.err(DAILY_USAGE);
  return 2;
}

async function importCsv(
  file: string,
  defaults: SubscriberDefaults,
  connect: () => Promise<{ api: Api; where: string }>,
  io: CliIo,
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.err(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
    return 2;
  }
  let parsed: ReturnType<typeof parseSubscriberCsv>;
  try {
    parsed = parseSubscriberCsv(text, defaults);
  } catch (error) {
    io.err(
      `${file} cannot be imported: ${error instanceof CsvHeaderError ? error.message : (error as Error).message}`,
    );
    return 2;
  }
  const { api, where } = await connect();
  const problems = [...parsed.problems];
  let created = 0;
  let merged = 0;
  const total = parsed.subscribers.length;
  for (let start = 0; start < total; start += MAX_BULK) {
    const batch = parsed.subscribers.slice(start, start + MAX_BULK);
    const response = await api('POST', '/subscribers', { subscribers: batch.map((b) => b.subscriber) });
    const body = response.body as {
      created?: number;
      merged?: number;
      error?: { message: string; details?: Array<{ field?: string; message: string }> };
    };
    if (response.status >= 400) {
      for (const detail of body.error?.details ?? [
        { message: body.error?.message ?? `HTTP ${response.status}` },
      ]) {
        const index = Number(/^body\.subscribers\.(\d+)/.exec(detail.field ?? '')?.[1] ?? Number.NaN);
        problems.push({
          line: Number.isNaN(index) ? (batch[0]?.line ?? 0) : (batch[index]?.line ?? 0),
          field: detail.field?.replace(/^body\.subscribers\.\d+\.?/, '') || '(batch)',
          reason: detail.message,
        });
      }
    } else {
      created += body.created ?? 0;
      merged += body.merged ?? 0;
    }
    io.progress(bar(Math.min(start + batch.length, total), total));
  }
  io.progress('');
  io.out(
    `Imported into ${where}: ${created + merged} subscriber(s) accepted (${created} new, ${merged} merged), ${problems.length} rejected.`,
  );
  for (const problem of problems.sort((a, b) => a.line - b.line))
    io.out(`  line ${problem.line}: ${problem.field}: ${problem.reason}`);
  return problems.length ? 1 : 0;
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  return `Importing [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${total ? Math.round((done / total) * 100) : 100}% ${done}/${total} subscribers`;
}
