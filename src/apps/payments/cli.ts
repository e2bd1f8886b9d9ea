// `switchboard payments create-key <name>`, `revoke-key <id>` and `erase --session <id> | --email
// <address>`, through the service API like the other app commands.
import type { CliIo, Connect } from '../../platform/cli/app-command.ts';

export const PAYMENTS_USAGE = `Usage:
  switchboard payments create-key <name>   create an API key for POST /chat (printed once; stored hashed)
  switchboard payments revoke-key <id>     revoke a key
  switchboard payments erase --session <id> | --email <address>
                                           erase a person's chat data now (payments keep their
                                           accounting fields: amount, currency, dates, Stripe ids)`;

/** Exit codes: 0 done, 1 refused by the service, 2 usage. */
export async function paymentsCommand(args: string[], connect: Connect, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' && rest.length === 0) {
    io.out(PAYMENTS_USAGE);
    return 0;
  }
  if (sub === 'create-key' && rest.length === 1 && rest[0]) {
    const { api } = await connect();
    const answer = await api('POST', '/payments/api-keys', { name: rest[0] });
    const body = answer.body as { id?: string; key?: string; error?: { message: string } };
    if (answer.status !== 201 || !body.key) {
      io.err(`Could not create the key: ${body.error?.message ?? `HTTP ${answer.status}`}`);
      return 1;
    }
    io.out(`Created API key ${body.id} (${rest[0]}). It is shown only now:\n${body.key}`);
    return 0;
  }
  if (sub === 'revoke-key' && rest.length === 1 && rest[0]) {
    const { api } = await connect();
    const answer = await api('POST', `/payments/api-keys/${encodeURIComponent(rest[0])}/revoke`);
    if (answer.status !== 200) {
      const body = answer.body as { error?: { message: string } };
      io.err(`Could not revoke the key: ${body.error?.message ?? `HTTP ${answer.status}`}`);
      return 1;
    }
    io.out(`Revoked API key ${rest[0]}.`);
    return 0;
  }
  if (sub === 'erase') {
    const target = eraseTarget(rest);
    if (!target) {
      io.err(`erase needs exactly one of --session <id> or --email <address>\n\n${PAYMENTS_USAGE}`);
      return 2;
    }
    const { api } = await connect();
    const answer = await api('POST', '/payments/erasures', target);
    const body = answer.body as {
      erased?: number;
      deleted?: number;
      error?: { message: string; details?: Array<{ message: string }> };
    };
    if (answer.status !== 200) {
      const why = body.error?.details?.[0]?.message ?? body.error?.message ?? `HTTP ${answer.status}`;
      io.err(`Could not erase: ${why}`);
      return 1;
    }
    const erased = body.erased ?? 0;
    const deleted = body.deleted ?? 0;
    io.out(
      erased + deleted === 0
        ? `No PayBot session matches ${'sessionId' in target ? `session ${target.sessionId}` : target.email}.`
        : `Erased ${erased + deleted} session${erased + deleted === 1 ? '' : 's'}: ${deleted} deleted, ${erased} kept without personal data for the payments they made.`,
    );
    return 0;
  }
  io.err(PAYMENTS_USAGE);
  return 2;
}

/** `--session <id>` or `--email <address>` (also as `--session=<id>`), exactly one of them. */
function eraseTarget(args: string[]): { sessionId: string } | { email: string } | null {
  const given: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = (args[i] as string).split(/=(.*)/s, 2);
    if (flag !== '--session' && flag !== '--email') return null;
    const value = inline ?? args[++i];
    if (!value || value.startsWith('--') || given[flag]) return null;
    given[flag] = value;
  }
  const keys = Object.keys(given);
  if (keys.length !== 1) return null;
  return given['--session'] ? { sessionId: given['--session'] } : { email: given['--email'] as string };
}
