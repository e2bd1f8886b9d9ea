// `switchboard daily import <file.csv>` and `switchboard daily plan --once`. Both talk to the daily
// API (in-process, or the running server's), so they validate and write exactly as the API does.
import { type CliIo, type Connect, importCsv } from '../../platform/cli/app-command.ts';
import { parseSubscriberCsv } from './csv-import.ts';
import { MAX_BULK } from './routes.ts';
import type { SubscriberDefaults } from './subscribers.ts';

export const DAILY_USAGE = `Usage:
  switchboard daily import <file.csv>   add subscribers from a CSV file (header row: phone, and
                                        optionally time_zone, window, name, language); a number
                                        already subscribed is updated
  switchboard daily plan --once         plan every subscriber's next local day now, then exit`;

/** Exit codes: 0 done, 1 some rows or the run failed, 2 usage or an unreadable file. */
export async function dailyCommand(
  args: string[],
  defaults: SubscriberDefaults,
  connect: Connect,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(DAILY_USAGE);
    return 0;
  }
  if (sub === 'import' && rest.length === 1)
    return importSubscribers(rest[0] as string, defaults, connect, io);
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

function importSubscribers(
  file: string,
  defaults: SubscriberDefaults,
  connect: Connect,
  io: CliIo,
): Promise<number> {
  return importCsv(
    {
      file,
      parse: (text) => {
        const parsed = parseSubscriberCsv(text, defaults);
        return {
          rows: parsed.subscribers.map((row) => ({ line: row.line, value: row.subscriber })),
          problems: parsed.problems,
        };
      },
      url: '/subscribers',
      key: 'subscribers',
      maxBulk: MAX_BULK,
      unit: 'subscribers',
      summary: (where, { created = 0, merged = 0 }, rejected) =>
        `Imported into ${where}: ${created + merged} subscriber(s) accepted (${created} new, ${merged} merged), ${rejected} rejected.`,
    },
    connect,
    io,
  );
}
