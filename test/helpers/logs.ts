import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/platform/log.ts';

/** A real pino logger (same redaction as production) writing JSON lines into memory. */
export function captureLogs(level = 'info'): { log: Logger; lines: () => string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ log: { level: level as 'info', format: 'json' } }, stream);
  const text = () => chunks.join('');
  return { log, text, lines: () => text().split('\n').filter(Boolean) };
}
