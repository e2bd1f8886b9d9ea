// The audit log: every console action with who, when, on what and how it went.
import { listAudit } from '../audit.ts';
import { badge, table, time } from '../components.ts';
import { html } from '../html.ts';
import type { PageDefinition } from '../ui.ts';
import type { PlatformPageDeps } from './deps.ts';

export function auditPage(deps: PlatformPageDeps): PageDefinition {
  return {
    path: '/console/audit',
    title: 'Audit log',
    nav: 'Audit',
    live: true,
    async render(view) {
      const before = view.query.before ? parseCursor(view.query.before) : undefined;
      const entries = await listAudit(deps.db.orm, { limit: 101, ...(before ? { before } : {}) });
      const page = entries.slice(0, 100);
      const last = page.at(-1);
      const next = entries.length > 100 && last ? `${last.at.toISOString()}|${last.id}` : null;
      return html`${table(
        'Console actions, newest first',
        [
          { label: 'When', cell: (e) => time(e.at) },
          { label: 'Who', cell: (e) => e.operator },
          { label: 'Action', cell: (e) => e.action },
          { label: 'On', cell: (e) => (e.target ? html`<code>${e.target}</code>` : '') },
          { label: 'Outcome', cell: (e) => badge(e.outcome, e.outcome === 'done' ? 'good' : 'bad') },
          { label: 'Detail', cell: (e) => e.detail ?? '' },
        ],
        page,
        'No actions yet.',
      )}
${next ? html`<nav class="pager" aria-label="Pages"><a href="/console/audit?before=${encodeURIComponent(next)}" rel="next">Older</a></nav>` : ''}`;
    },
  };
}

function parseCursor(value: string): { at: Date; id: string } | undefined {
  const [at, id] = value.split('|');
  const date = new Date(at ?? '');
  return id && /^[0-9a-f-]{36}$/.test(id) && !Number.isNaN(date.getTime()) ? { at: date, id } : undefined;
}
