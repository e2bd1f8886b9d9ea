// `switchboard payments create-key <name>` and `switchboard payments revoke-key <id>`, through the
// service API like the other app commands.
import type { CliIo, Connect } from '../../platform/cli/app-command.ts';

export const PAYMENTS_USAGE = `Usage:
  switchboard payments create-key <name>   create an API key for POST /chat (printed once; stored hashed)
  switchboard payments revoke-key <id>     revoke a key`;

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
  io.err(PAYMENTS_USAGE);
  return 2;
}
