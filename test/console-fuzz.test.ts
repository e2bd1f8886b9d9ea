// Hostile input to the console. Its routes are not in /openapi.json (they are pages, not API), so
// they are found the way a person finds them: by following the links and forms the console itself
// shows, with every bot running. Each page is then requested with generated query strings and path
// ids, and each form posted with generated values, with and without the session's CSRF token.
// No answer may be a 5xx, no value may come back unescaped, and nothing may act without the token.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_NAMES, loadApps } from '../src/apps/index.ts';
import { encodeText, NASTY_STRINGS, nastyString } from './fuzz/hostile-values.ts';
import { openConsole } from './helpers/console.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const MARKER = '<b data-x="fuzz">';

interface Form {
  action: string;
  fields: Record<string, string>;
}

/** Links and POST forms of a page, as the browser would find them. */
function parse(html: string): { links: string[]; forms: Form[] } {
  const links = [...html.matchAll(/href="(\/console[^"#]*)"/g)].map((m) => decode(m[1] as string));
  const forms = [
    ...html.matchAll(/<form method="post" action="(\/console[^"]*)"[^>]*>([\s\S]*?)<\/form>/g),
  ].map((m) => {
    const fields: Record<string, string> = {};
    for (const input of (m[2] as string).matchAll(
      /<(?:input|textarea|select)[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?/g,
    ))
      fields[input[1] as string] = decode(input[2] ?? '');
    return { action: decode(m[1] as string), fields };
  });
  return { links, forms };
}

const decode = (text: string) =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

describe('console under hostile input', () => {
  let running: TestService;
  let cookie: string;
  const pages = new Set<string>();
  const forms = new Map<string, Form>();

  beforeAll(async () => {
    running = await startTestService('pglite', { apps: await loadApps(APP_NAMES) });
    const { channels } = running.service;
    // Something to link to: a message on each channel, one of them failed.
    for (const [i, channel, to] of [
      [1, 'sms', '+14155550140'],
      [2, 'email', 'ap@example.com'],
      [3, 'slack', 'C0SANDBOX1'],
    ] as const) {
      const content =
        channel === 'email'
          ? { subject: 'Hello', text: 'Hello' }
          : channel === 'sms'
            ? { body: 'Hello' }
            : { text: 'Hello' };
      await channels.enqueue({ dedupeKey: `fuzz:${i}`, channel, to, content } as Parameters<
        typeof channels.enqueue
      >[0]);
    }
    await waitFor('the three deliveries', async () => {
      const rows = await running.service.db.query<{ n: number }>(
        `select count(*)::int as n from outbox_messages where status = 'delivered'`,
      );
      return (rows[0]?.n ?? 0) >= 3;
    });
    await running.service.db.query(
      `update outbox_messages set status = 'failed' where dedupe_key = 'fuzz:1'`,
    );
    cookie = (await openConsole(running.service.app)).cookie;
    // Crawl two levels from the overview: every page and form the console offers.
    let frontier = ['/console'];
    for (let depth = 0; depth < 3 && frontier.length; depth++) {
      const next: string[] = [];
      for (const url of frontier) {
        if (pages.has(url)) continue;
        pages.add(url);
        const response = await running.service.app.inject({ url, headers: { cookie } });
        const found = parse(response.body);
        for (const form of found.forms) if (!forms.has(form.action)) forms.set(form.action, form);
        next.push(...found.links.filter((link) => !link.includes('/assets/')));
      }
      frontier = [...new Set(next)].slice(0, 60);
    }
  });
  afterAll(() => running?.dispose());

  const get = (url: string) => running.service.app.inject({ url, headers: { cookie } });

  it('finds the console’s pages and forms by following its own links', () => {
    expect(pages.size).toBeGreaterThan(8);
    expect([...forms.keys()].some((action) => action.includes('/retry') || action.includes('/scan'))).toBe(
      true,
    );
  });

  it('answers generated query strings on every page below 500, and never echoes a value unescaped', async () => {
    const bases = [...pages].map((url) => url.split('?')[0] as string);
    const keys = [
      'status',
      'channel',
      'key',
      'to',
      'since',
      'until',
      'before',
      'queue',
      'tab',
      'phone',
      'q',
      'zone',
      'done',
      'email',
      'channel',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...new Set(bases)),
        fc.dictionary(fc.constantFrom(...keys), fc.oneof(nastyString, fc.constant(MARKER)), { maxKeys: 4 }),
        async (base, query) => {
          const search = Object.entries(query)
            .map(([k, v]) => `${k}=${encodeText(v)}`)
            .join('&');
          const response = await get(`${base}?${search}`);
          expect(response.statusCode, `${base}?${search}`).toBeLessThan(500);
          expect(response.body).not.toContain(MARKER);
        },
      ),
      { seed: 1601, numRuns: 300 },
    );
  }, 120_000);

  it('answers hostile ids in page paths below 500', async () => {
    const withIds = [...pages].filter(
      (url) => /\/[0-9a-f-]{36}(\/|$|\?)/.test(url) || /\/console\/[a-z]+\/[^/?]+$/.test(url),
    );
    expect(withIds.length).toBeGreaterThan(0);
    for (const url of withIds)
      for (const value of NASTY_STRINGS.slice(0, 30)) {
        const path = url.split('?')[0]?.replace(/\/[^/]+$/, `/${encodeText(value) || '%20'}`);
        const response = await get(path as string);
        expect(response.statusCode, path).toBeLessThan(500);
      }
  }, 120_000);

  it('posts every form with generated values: below 500, and nothing acts without the CSRF token', async () => {
    const before = await running.service.db.query<{ n: number }>(
      `select count(*)::int as n from audit_log where outcome = 'done'`,
    );
    const actions = [...forms.values()].filter((form) => form.action !== '/console/logout');
    for (const form of actions) {
      // Without the token: refused, whatever else is sent.
      const { _csrf, ...rest } = form.fields;
      const refused = await running.service.app.inject({
        method: 'POST',
        url: form.action,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...rest, _confirmed: 'yes' }).toString(),
      });
      expect(refused.statusCode, form.action).toBe(403);
    }
    const after = await running.service.db.query<{ n: number }>(
      `select count(*)::int as n from audit_log where outcome = 'done'`,
    );
    expect(after[0]?.n).toBe(before[0]?.n);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...actions),
        fc.array(fc.oneof(nastyString, fc.constant(MARKER)), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        async (form, values, confirmed) => {
          const fields: Record<string, string> = { ...form.fields };
          Object.keys(fields)
            .filter((name) => name !== '_csrf')
            .forEach((name, i) => {
              fields[name] = values[i % values.length] as string;
            });
          const response = await running.service.app.inject({
            method: 'POST',
            url: form.action,
            headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              ...fields,
              ...(confirmed ? { _confirmed: 'yes' } : {}),
            }).toString(),
          });
          expect(response.statusCode, `${form.action} ${JSON.stringify(fields)}`).toBeLessThan(500);
          expect(response.body).not.toContain(MARKER);
        },
      ),
      { seed: 1602, numRuns: 150 },
    );
  }, 120_000);
});
