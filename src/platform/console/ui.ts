// What a console page or action is, for the platform's pages and for each app's (an app adds its
// pages through AppModule.console, as it adds routes). Pages render HTML from the same service
// functions the HTTP API calls; actions are POSTs the console confirms, CSRF-checks and audits.
import type { SafeHtml } from './html.ts';

export interface PageView {
  /** The request's path and query, e.g. `/console/outbox?status=failed`. */
  url: string;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Who is signed in (the name given at login), as the audit log records it. */
  operator: string;
  /** Goes into every form as `_csrf` (components.ts `actionForm` does it). */
  csrf: string;
}

export interface PageDefinition {
  /** A Fastify route path under /console, e.g. `/console/outbox/:id`. */
  path: string;
  title: string | ((view: PageView) => string);
  /** The navigation label; pages reached from another page have none. */
  nav?: string;
  /** Re-fetched every few seconds while open, so lists and counts stay current without a reload. */
  live?: boolean;
  render(view: PageView): Promise<SafeHtml>;
}

export interface ActionView extends PageView {
  /** The submitted form's fields (`_csrf` and `_confirmed` removed). */
  form: Record<string, string>;
}

export interface ActionResult {
  /** Shown to the operator and kept in the audit log. */
  message: string;
  /** What the action was about, for the audit log (an outbox id, a request id). */
  target?: string;
  /** Where the operator lands afterwards. */
  redirect: string;
}

export interface ActionDefinition {
  /** A POST route under /console, e.g. `/console/outbox/:id/retry`. */
  path: string;
  /** The audit log's name for it, e.g. `outbox.retry`. */
  name: string;
  /** The question asked before it runs (null: runs at once, as texting back in the sandbox). */
  confirm: ((view: ActionView) => Promise<string>) | null;
  /** A thrown AppError is shown to the operator and audited as refused. */
  run(view: ActionView): Promise<ActionResult>;
}

/** One line of the overview's "needs a person" list. */
export interface AttentionItem {
  kind: string;
  title: string;
  detail: string;
  href: string;
  at: Date;
}

export interface ConsoleUi {
  page(page: PageDefinition): void;
  action(action: ActionDefinition): void;
  /** Adds a source of "needs a person" items to the overview (newest first, at most `limit`). */
  attention(source: (limit: number) => Promise<AttentionItem[]>): void;
  /** Adds a panel to the sandbox page (CreditBot's composer of credit requests). */
  sandboxPanel(render: (view: PageView) => Promise<SafeHtml>): void;
}
