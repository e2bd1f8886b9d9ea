// A console session as an operator has one, for tests that drive the console over inject(): the
// session cookie, the CSRF token its forms carry, pages read as the operator reads them, and forms
// submitted with the confirmation step the console asks for before an action.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

export const cookieOf = (headers: Record<string, unknown>) =>
  String(headers['set-cookie'] ?? '').split(';')[0] ?? '';
export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
/** A page's words without its markup, as one line: what the operator reads. */
export const text = (markup: string) => markup.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export interface ConsoleSession {
  cookie: string;
  csrf: string;
  /** Any console URL with the session's cookie, whatever it answers. */
  get(url: string): Promise<LightMyRequestResponse>;
  /** A console page the operator may see (200), its HTML. */
  page(url: string): Promise<string>;
  /** Submits a console form, with the session's CSRF token unless `withToken` is false. */
  submit(url: string, fields?: Record<string, string>, withToken?: boolean): Promise<LightMyRequestResponse>;
  /** Runs an action as the operator would: the question first, then "Yes, do it". Returns where it lands. */
  act(url: string, fields?: Record<string, string>, confirm?: boolean): Promise<string>;
}

/**
 * Opens a session: in open mode (no ADMIN_API_TOKEN) the first visit makes one; with `token`, the
 * login form does, as `name`.
 */
export async function openConsole(
  app: Pick<FastifyInstance, 'inject'>,
  options: { token?: string; name?: string } = {},
): Promise<ConsoleSession> {
  let cookie: string;
  let csrf: string;
  if (options.token) {
    const login = await app.inject({
      method: 'POST',
      url: '/console/login',
      headers: FORM,
      payload: new URLSearchParams({
        name: options.name ?? 'Sam',
        token: options.token,
        next: '/console',
      }).toString(),
    });
    expect(login.statusCode, login.body.slice(0, 500)).toBe(303);
    cookie = cookieOf(login.headers);
    csrf = csrfOf((await app.inject({ url: '/console', headers: { cookie } })).body);
  } else {
    const first = await app.inject({ url: '/console' });
    expect(first.statusCode, first.body.slice(0, 500)).toBe(200);
    cookie = cookieOf(first.headers);
    csrf = csrfOf(first.body);
  }
  expect(cookie).toMatch(/^sb_console=./);
  expect(csrf).not.toBe('');

  const get = (url: string) => app.inject({ url, headers: { cookie } });
  const submit = (url: string, fields: Record<string, string> = {}, withToken = true) =>
    app.inject({
      method: 'POST',
      url,
      headers: { cookie, ...FORM },
      payload: new URLSearchParams({ ...(withToken ? { _csrf: csrf } : {}), ...fields }).toString(),
    });
  return {
    cookie,
    csrf,
    get,
    async page(url) {
      const response = await get(url);
      expect(response.statusCode, `${url}: ${response.body.slice(0, 500)}`).toBe(200);
      return response.body;
    },
    submit,
    async act(url, fields = {}, confirm = true) {
      if (confirm) {
        const question = await submit(url, fields);
        expect(question.statusCode, question.body.slice(0, 500)).toBe(200);
        expect(question.body).toContain('Please confirm');
        expect(question.body).toContain('Yes, do it');
      }
      const done = await submit(url, confirm ? { ...fields, _confirmed: 'yes' } : fields);
      expect(done.statusCode, done.body.slice(0, 800)).toBe(303);
      return String(done.headers.location);
    },
  };
}
