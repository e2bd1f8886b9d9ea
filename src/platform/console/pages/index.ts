// The platform's own console pages (apps add theirs through AppModule.console).
import type { ConsoleUi } from '../ui.ts';
import { auditPage } from './audit.ts';
import type { PlatformPageDeps } from './deps.ts';
import { jobsPages } from './jobs.ts';
import { outboxPages } from './outbox.ts';
import { overviewPage } from './overview.ts';
import { sandboxPages } from './sandbox.ts';

export type { PlatformPageDeps } from './deps.ts';

export function addPlatformPages(ui: ConsoleUi, deps: PlatformPageDeps, where: 'first' | 'last'): void {
  if (where === 'first') {
    ui.page(overviewPage(deps));
    for (const part of [outboxPages(deps), sandboxPages(deps)]) {
      for (const page of part.pages) ui.page(page);
      for (const action of part.actions) ui.action(action);
    }
    return;
  }
  const jobs = jobsPages(deps);
  for (const page of jobs.pages) ui.page(page);
  for (const action of jobs.actions) ui.action(action);
  ui.page(auditPage(deps));
}
