// The console's HTTP side: sessions and login, each page as a GET route (whole page, or only its
// main region for the live refresh), each action as a POST route that checks the CSRF token, asks
// for confirmation where the action wants it, runs, and records who did what in the audit log.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { sameSecret } from '../http/admin-auth.ts';
import { credentialGuard } from '../http/credential-failures.ts';
import type { Logger } from '../log.ts';
import { consoleCss, consoleScript } from './assets.ts';
import { getAudit, recordAudit } from './audit.ts';
import { actionForm } from './components.ts';
import { html, type SafeHtml } from './html.ts';
import { fragment, shell } from './layout.ts';
import {
  type ConsoleSession,
  clearSessionCookie,
  closeSession,
  findSession,
  openSession,
  readCookie,
  SESSION_COOKIE,
  setSessionCookie,
} from './session.ts';
import type {
  ActionDefinition,
  ActionView,
  AttentionItem,
  ConsoleUi,
  PageDefinition,
  PageView,
} from './ui.ts';

export interface ConsoleOptions {
  db: Database;
  log: Logger;
  /** With a token the console asks for it at login; without, it is open (loopback only). */
  adminToken: string | null;
  sessionTtlMs: number;
  /** Channels on their sandbox driver, named in the banner. */
  sandboxChannels: string[];
}

export interface Console {
  ui: ConsoleUi;
  /** The overview's "needs a person" list, merged from every source, newest first. */
  attention(limit: number): Promise<AttentionItem[]>;
  /** The apps' panels on the sandbox page. */
  sandboxPanels(view: PageView): Promise<SafeHtml[]>;
  register(app: FastifyInstance): void;
}

/** Who the audit log names when the console is open (no ADMIN_API_TOKEN, loopback only). */
export const OPEN_OPERATOR = 'local operator (no login)';

export function createConsole(options: ConsoleOptions): Console {
  const pages: PageDefinition[] = [];
  const actions: ActionDefinition[] = [];
  const attentionSources: Array<(limit: number) => Promise<AttentionItem[]>> = [];
  const sandboxPanels: Array<(view: PageView) => Promise<SafeHtml>> = [];
  const ui: ConsoleUi = {
    page: (page) => void pages.push(page),
    action: (action) => void actions.push(action),
    attention: (source) => void attentionSources.push(source),
    sandboxPanel: (render) => void sandboxPanels.push(render),
  };
  const open = !options.adminToken;

  const navigation = () => pages.filter((p) => p.nav).map((p) => ({ href: p.path, label: p.nav as string }));

  /** The request's session; in open mode one is made on the first visit. */
  async function sessionOf(request: FastifyRequest, reply: FastifyReply, create: boolean) {
    const token = readCookie(request, SESSION_COOKIE);
    const found = await findSession(options.db.orm, token);
    if (found || !open || !create) return found;
    const made = await openSession(options.db.orm, OPEN_OPERATOR, options.sessionTtlMs);
    setSessionCookie(request, reply, made.token, options.sessionTtlMs);
    return made.session;
  }

  function viewOf(request: FastifyRequest, session: ConsoleSession): PageView {
    return {
      url: request.url,
      params: (request.params ?? {}) as Record<string, string>,
      query: Object.fromEntries(
        Object.entries((request.query ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : Array.isArray(v) ? String(v[0]) : undefined,
        ]),
      ),
      operator: session.operator,
      csrf: session.csrfToken,
    };
  }

  function send(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    page: { title: string; body: SafeHtml; live?: boolean; notice?: SafeHtml | string | null },
    session: ConsoleSession | null,
  ) {
    const path = request.url.split('?')[0] ?? '';
    const markup =
      request.headers['x-console-fragment'] === '1'
        ? fragment(page)
        : shell({
            ...page,
            live: page.live ?? false,
            nav: navigation(),
            current: path,
            operator: session?.operator ?? null,
            csrf: session?.csrfToken ?? null,
            open,
            sandboxChannels: options.sandboxChannels,
          });
    // Pages show message contents and recipients: never kept by a shared cache.
    return reply
      .status(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(markup.value);
  }

  function sendError(
    request: FastifyRequest,
    reply: FastifyReply,
    error: unknown,
    session: ConsoleSession | null,
  ) {
    if (error instanceof AppError) {
      return send(
        request,
        reply,
        error.status,
        {
          title: titleOf(error),
          body: html`<p class="notice error" role="alert">${error.message}</p><p><a href="/console">Back to the overview</a></p>`,
        },
        session,
      );
    }
    request.log.error({ err: error }, 'console page failed');
    return send(
      request,
      reply,
      500,
      {
        title: 'Something went wrong',
        body: html`<p class="notice error" role="alert">This page could not be shown. The error is in the service log under request id <code>${request.id}</code>.</p>`,
      },
      session,
    );
  }

  const loginRedirect = (request: FastifyRequest, reply: FastifyReply) =>
    reply.redirect(`/console/login?next=${encodeURIComponent(request.url)}`, 303);

  async function notice(query: Record<string, string | undefined>) {
    const id = query.done;
    if (!id || !/^[0-9a-f-]{36}$/.test(id)) return null;
    const entry = await getAudit(options.db.orm, id).catch(() => undefined);
    return entry
      ? html`${entry.detail ?? entry.action} <small>(recorded in the <a href="/console/audit">audit log</a> as ${entry.operator}, ${entry.at.toISOString().slice(0, 19).replace('T', ' ')} UTC)</small>`
      : null;
  }

  function registerPage(app: FastifyInstance, page: PageDefinition) {
    app.get(page.path, { schema: { hide: true } }, async (request, reply) => {
      let session: ConsoleSession | null = null;
      try {
        session = await sessionOf(request, reply, true);
        if (!session) return loginRedirect(request, reply);
        const view = viewOf(request, session);
        const [body, done] = await Promise.all([page.render(view), notice(view.query)]);
        const title = typeof page.title === 'function' ? page.title(view) : page.title;
        return send(request, reply, 200, { title, body, live: page.live ?? false, notice: done }, session);
      } catch (error) {
        return sendError(request, reply, error, session);
      }
    });
  }

  function registerAction(app: FastifyInstance, action: ActionDefinition) {
    app.post(action.path, { schema: { hide: true } }, async (request, reply) => {
      let session: ConsoleSession | null = null;
      try {
        session = await sessionOf(request, reply, false);
        if (!session) {
          if (!open) return loginRedirect(request, reply);
          throw new AppError(
            'forbidden',
            'This form came without a console session: open the page again and retry.',
          );
        }
        const form = formOf(request.body);
        if (!sameSecret(form._csrf, session.csrfToken))
          throw new AppError(
            'forbidden',
            'This form is out of date or came from another site (its CSRF token does not match): open the page again and retry.',
          );
        const confirmed = form._confirmed === 'yes';
        delete form._csrf;
        delete form._confirmed;
        const view: ActionView = { ...viewOf(request, session), form };
        if (action.confirm && !confirmed) {
          const question = await action.confirm(view);
          const back = backPath(request.headers.referer);
          return send(
            request,
            reply,
            200,
            {
              title: 'Please confirm',
              body: html`<p>${question}</p>
${actionForm(request.url.split('?')[0] ?? action.path, 'Yes, do it', session.csrfToken, { ...form, _confirmed: 'yes' }, 'primary')} <a href="${back}">No, go back</a>`,
            },
            session,
          );
        }
        try {
          const result = await action.run(view);
          const entry = await recordAudit(options.db.orm, {
            operator: session.operator,
            action: action.name,
            target: result.target ?? null,
            outcome: 'done',
            detail: result.message,
          });
          const sep = result.redirect.includes('?') ? '&' : '?';
          return reply.redirect(`${result.redirect}${sep}done=${entry.id}`, 303);
        } catch (error) {
          if (error instanceof AppError)
            await recordAudit(options.db.orm, {
              operator: session.operator,
              action: action.name,
              target: view.params.id ?? null,
              outcome: 'refused',
              detail: error.message,
            }).catch((failure) => request.log.warn({ err: failure }, 'could not record a refused action'));
          throw error;
        }
      } catch (error) {
        return sendError(request, reply, error, session);
      }
    });
  }

  function register(app: FastifyInstance) {
    app.get('/console/assets/console.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(consoleCss),
    );
    app.get('/console/assets/console.js', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(consoleScript),
    );

    app.get('/console/login', { schema: { hide: true } }, async (request, reply) => {
      if (open) return reply.redirect('/console', 303);
      const next = safeNext((request.query as Record<string, unknown>)?.next);
      return send(request, reply, 200, { title: 'Sign in', body: loginForm(next, null) }, null);
    });
    app.post('/console/login', { schema: { hide: true } }, async (request, reply) => {
      const adminToken = options.adminToken;
      if (!adminToken) return reply.redirect('/console', 303);
      const form = formOf(request.body);
      const next = safeNext(form.next);
      const name = (form.name ?? '').trim().slice(0, 100);
      try {
        await credentialGuard(request, async () => {
          if (!sameSecret(form.token, adminToken))
            throw new AppError('unauthorized', 'That is not this service’s ADMIN_API_TOKEN.');
        });
        if (!name) throw new AppError('invalid_input', 'Give your name: the audit log records who did what.');
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return send(
          request,
          reply,
          error.status,
          { title: 'Sign in', body: loginForm(next, error.message, name) },
          null,
        );
      }
      const made = await openSession(options.db.orm, name, options.sessionTtlMs);
      setSessionCookie(request, reply, made.token, options.sessionTtlMs);
      return reply.redirect(next, 303);
    });
    app.post('/console/logout', { schema: { hide: true } }, async (request, reply) => {
      const token = readCookie(request, SESSION_COOKIE);
      const session = await findSession(options.db.orm, token);
      const form = formOf(request.body);
      if (session && !sameSecret(form._csrf, session.csrfToken))
        return sendError(
          request,
          reply,
          new AppError('forbidden', 'This form is out of date: open the page again and retry.'),
          session,
        );
      await closeSession(options.db.orm, token);
      clearSessionCookie(request, reply);
      return reply.redirect(open ? '/console' : '/console/login', 303);
    });

    for (const page of pages) registerPage(app, page);
    for (const action of actions) registerAction(app, action);
  }

  async function attention(limit: number) {
    const lists = await Promise.all(
      attentionSources.map((source) =>
        source(limit).catch((error) => {
          options.log.warn({ err: error }, 'a needs-a-person source failed');
          return [] as AttentionItem[];
        }),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .slice(0, limit);
  }

  return {
    ui,
    attention,
    sandboxPanels: (view) => Promise.all(sandboxPanels.map((render) => render(view))),
    register,
  };
}

function loginForm(next: string, error: string | null, name = ''): SafeHtml {
  return html`<form method="post" action="/console/login" class="login">
${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
<p>This console needs the service’s ADMIN_API_TOKEN. Your name goes into the audit log with each action.</p>
<p><label for="login-name">Your name</label><input id="login-name" name="name" autocomplete="name" required maxlength="100" value="${name}"></p>
<p><label for="login-token">Admin token</label><input id="login-token" name="token" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="next" value="${next}">
<p><button type="submit" class="primary">Sign in</button></p>
</form>`;
}

/** Where to go after login: only a console path of this service (never another site). */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/console(\/|\?|$)/.test(value) && !value.startsWith('//')
    ? value
    : '/console';
}

/** The console page the operator came from (its path only: never a link to another site). */
function backPath(referer: string | undefined): string {
  try {
    const url = new URL(referer ?? '', 'http://x');
    return url.pathname.startsWith('/console') ? `${url.pathname}${url.search}` : '/console';
  } catch {
    return '/console';
  }
}

function formOf(body: unknown): Record<string, string> {
  const form: Record<string, string> = {};
  if (body && typeof body === 'object')
    for (const [key, value] of Object.entries(body as Record<string, unknown>))
      if (typeof value === 'string') form[key] = value;
      else if (Array.isArray(value) && typeof value[0] === 'string') form[key] = value[0];
  return form;
}

const titleOf = (error: AppError) =>
  ({
    not_found: 'Not found',
    forbidden: 'Not allowed',
    conflict: 'Cannot do that now',
    invalid_input: 'Check the input',
    unauthorized: 'Sign in',
  })[error.code as string] ?? 'Cannot do that';
