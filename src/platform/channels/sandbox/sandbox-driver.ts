// The embedded default for a channel without credentials: the message is stored in the sandbox
// inbox (GET /sandbox/messages) instead of reaching a phone, mailbox or Slack workspace. It is never
// used for a channel whose credentials are set.
import type { Database } from '../../db/database.ts';
import { sandboxMessages } from '../schema.ts';
import type { Channel, ChannelDriver } from '../types.ts';

export function createSandboxDriver(channel: Channel, db: Database): ChannelDriver {
  return {
    name: 'sandbox',
    channel,
    async send(message) {
      const [row] = await db.orm
        .insert(sandboxMessages)
        .values({
          channel,
          direction: 'outbound',
          sender: message.sender,
          recipient: message.recipient,
          content: message.content,
          outboxId: message.id,
        })
        .returning({ id: sandboxMessages.id });
      return { providerId: `sandbox-${row?.id}`, status: 'delivered' };
    },
    async verify() {
      return 'sandbox: no credentials set, nothing leaves this machine';
    },
    async findSent(message) {
      const rows = await db.query<{ id: string }>(
        'select id from sandbox_messages where outbox_id = $1 limit 1',
        [message.id],
      );
      return rows.map((row) => ({ providerId: `sandbox-${row.id}`, status: 'delivered' as const }));
    },
  };
}
