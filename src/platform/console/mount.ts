// Puts the console on an HTTP app: the platform's pages, then each running app's, then the jobs and
// audit pages, all behind one session. Imported only by processes that serve the API.
import type { FastifyInstance } from 'fastify';
import type { AppContext, AppModule } from '../app-module.ts';
import { pageOfMessages } from '../channels/outbox/routes.ts';
import { addPlatformPages, type PlatformPageDeps } from './pages/index.ts';
import { createConsole } from './routes.ts';

export interface MountOptions extends Omit<PlatformPageDeps, 'attention' | 'sandboxPanels'> {
  adminToken: string | null;
  sessionTtlMs: number;
  apps: AppModule[];
  context: AppContext;
}

export async function mountConsole(app: FastifyInstance, options: MountOptions): Promise<void> {
  const { apps, context, adminToken, sessionTtlMs, ...pageDeps } = options;
  const sandboxChannels = Object.entries(options.channels.driverNames)
    .filter(([, driver]) => driver === 'sandbox')
    .map(([channel]) => channel);
  const console = createConsole({
    db: options.db,
    log: context.log,
    adminToken,
    sessionTtlMs,
    sandboxChannels,
  });
  const deps: PlatformPageDeps = {
    ...pageDeps,
    attention: console.attention,
    sandboxPanels: console.sandboxPanels,
  };
  addPlatformPages(console.ui, deps, 'first');
  console.ui.attention(async (limit) => {
    const { messages } = await pageOfMessages(options.db, { status: 'failed', limit });
    return messages.map((m) => ({
      kind: 'failed message',
      title: `${m.channel} to ${m.recipient}`,
      detail: m.lastError ?? m.errorCode ?? 'failed',
      href: `/console/outbox/${m.id}`,
      at: m.updatedAt,
    }));
  });
  for (const module of apps) await module.console?.(console.ui, context);
  addPlatformPages(console.ui, deps, 'last');
  console.register(app);
}
