// The Slack SDK logs on its own (to the console), and its error lines quote what Slack answered:
// a response_metadata message can carry our request, token included. Every WebClient gets this
// logger instead: warnings and errors still reach stderr as before, scrubbed of secrets and card
// numbers; debug and info stay off, as they were.
import type { WebClientOptions } from '@slack/web-api';
import { scrubText } from '../../redact.ts';

type SlackLogger = NonNullable<WebClientOptions['logger']>;
type Level = ReturnType<SlackLogger['getLevel']>;

export function scrubbingSlackLogger(): SlackLogger {
  let level = 'warn' as Level;
  let name = 'slack';
  const text = (parts: unknown[]) => scrubText(parts.map(String).join(' '));
  return {
    debug: () => {},
    info: () => {},
    warn: (...parts: unknown[]) => console.warn(`[WARN] ${name} ${text(parts)}`),
    error: (...parts: unknown[]) => console.error(`[ERROR] ${name} ${text(parts)}`),
    setLevel: (next: Level) => {
      level = next;
    },
    getLevel: () => level,
    setName: (next: string) => {
      name = next;
    },
  };
}
