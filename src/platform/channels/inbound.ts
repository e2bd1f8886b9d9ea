// An SMS someone sent us, from Twilio's webhook or the sandbox. Opt-out keywords are the
// platform's to handle, for every app at once; anything else goes to the apps that asked for it.
import type { Config } from '../../config.ts';
import type { Tx } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { EnqueueInput, EnqueueResult } from './outbox/enqueue.ts';
import { parseKeyword } from './sms/keywords.ts';
import { isSuppressed, suppress, unsuppress } from './suppression.ts';

export interface InboundSms {
  from: string;
  to: string;
  body: string;
  /** The provider's message id (Twilio MessageSid), for dedupe and reply keys. */
  providerId: string;
}

/**
 * An app's handler for inbound SMS; resolves true when the message was for it. It runs inside the
 * transaction that records the message as received: do its database work through `tx`, so the
 * message is handled exactly once (and on embedded PGlite, where other queries wait for the open
 * transaction, so it does not wait on itself).
 */
export type InboundSmsHandler = (message: InboundSms, tx: Tx) => Promise<boolean>;

export type InboundAction =
  | 'opted_out'
  | 'opted_in'
  | 'help_sent'
  | 'help_suppressed'
  | 'handled'
  | 'unhandled';

export interface InboundDeps {
  /** The transaction the message is received in. */
  tx: Tx;
  enqueue: (input: EnqueueInput, tx: Tx) => Promise<EnqueueResult>;
  config: Pick<Config, 'sms'>;
  handlers: readonly InboundSmsHandler[];
  log: Logger;
}

export async function handleInboundSms(deps: InboundDeps, message: InboundSms): Promise<InboundAction> {
  const keyword = parseKeyword(message.body);
  if (keyword?.kind === 'opt_out') {
    await suppress(deps.tx, message.from, 'keyword', keyword.word);
    deps.log.info({ keyword: keyword.word }, 'inbound opt-out: number suppressed for every app');
    return 'opted_out';
  }
  if (keyword?.kind === 'opt_in') {
    await unsuppress(deps.tx, message.from, 'keyword', keyword.word);
    return 'opted_in';
  }
  if (keyword?.kind === 'help') {
    // A suppressed number gets nothing, not even help, until it opts back in.
    if (await isSuppressed(deps.tx, message.from)) return 'help_suppressed';
    await deps.enqueue(
      {
        dedupeKey: `sms-help:${message.providerId}`,
        channel: 'sms',
        to: message.from,
        content: { body: deps.config.sms.helpText },
        meta: { reason: 'help keyword' },
      },
      deps.tx,
    );
    return 'help_sent';
  }
  for (const handler of deps.handlers) {
    if (await handler(message, deps.tx)) return 'handled';
  }
  deps.log.info({ providerId: message.providerId }, 'inbound SMS that no app handles');
  return 'unhandled';
}
