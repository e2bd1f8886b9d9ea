// Link extraction against generated Slack messages: mrkdwn (code spans and blocks, _italic_,
// *bold*, ~strike~, <url> and <url|label>, punctuation, Slack's &amp; escaping) around generated
// Looks, Explores and short links on the Looker host, dashboards and Explores without qid (which
// must be named as unreadable, never dropped), and links to other hosts (which are no requests).
// Plus Looker's row answers (looker_error is Looker's reason, not a row), and generated messages
// whose links name a few queries many ways: each query is credited once, its rows fetched once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCredit } from '../src/apps/credits/compute.ts';
import { describeLink, type ScannedLink, scanLookerLinks } from '../src/apps/credits/links.ts';
import { lookerRows } from '../src/apps/credits/looker.ts';
import type { QuerySource } from '../src/apps/credits/query-source.ts';

const HOST = 'acme.cloud.looker.com';

/** A link as the generator knows it: its URL, and what the scanner must say it is. */
interface Generated {
  url: string;
  /** Looker-host links: the identity the scanner must give; null for other hosts (never found). */
  expect: string | null;
}

const slug = fc.stringMatching(/^[A-Za-z0-9]{6,22}$/);
const lookId = fc.integer({ min: 1, max: 999_999 }).map(String);
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,14}[a-z0-9]$/);
const host = fc.constantFrom(HOST, HOST.toUpperCase(), 'Acme.Cloud.Looker.com');
const scheme = fc.constantFrom('https', 'http');

const look: fc.Arbitrary<Generated> = fc
  .record({ scheme, host, id: lookId, embed: fc.boolean(), tail: fc.constantFrom('', '?toggle=fil', '#x') })
  .map(({ scheme, host, id, embed, tail }) => ({
    url: `${scheme}://${host}${embed ? '/embed' : ''}/looks/${id}${tail}`,
    expect: `look:${id}`,
  }));

const explore: fc.Arbitrary<Generated> = fc
  .record({ host, model: name, view: name, slug, order: fc.constantFrom('first', 'last', 'only') })
  .map(({ host, model, view, slug, order }) => {
    const query =
      order === 'only'
        ? `qid=${slug}`
        : order === 'first'
          ? `qid=${slug}&toggle=fil,vis`
          : `fields=${view}.count&origin=share-expanded&qid=${slug}`;
    return { url: `https://${host}/explore/${model}/${view}?${query}`, expect: `explore:${slug}` };
  });

const short: fc.Arbitrary<Generated> = fc
  .record({ host, slug })
  .map(({ host, slug }) => ({ url: `https://${host}/x/${slug}`, expect: `short:${slug}` }));

const unreadable: fc.Arbitrary<Generated> = fc
  .record({
    host,
    id: lookId,
    model: name,
    view: name,
    kind: fc.constantFrom('dashboard', 'dashboard-next', 'explore', 'folder'),
  })
  .map(({ host, id, model, view, kind }) => {
    const path =
      kind === 'dashboard'
        ? `/dashboards/${id}`
        : kind === 'dashboard-next'
          ? `/dashboards-next/${id}`
          : kind === 'explore'
            ? `/explore/${model}/${view}?fields=${view}.count`
            : `/folders/${id}`;
    const url = `https://${host}${path}`;
    return { url, expect: `url:${new URL(url).href}` };
  });

const otherHost: fc.Arbitrary<Generated> = fc
  .record({ id: lookId, slug, which: fc.constantFrom('other.looker.com', 'acme.cloud.looker.com.evil.io') })
  .map(({ id, slug, which }) => ({
    url: id.length % 2 ? `https://${which}/looks/${id}` : `https://${which}/x/${slug}`,
    expect: null,
  }));

const label = fc
  .array(
    fc.constantFrom('the Look', 'query', 'Q3', 'credit :tada:', 'here', 'ACME', '😀', '_see_', '*this*'),
    {
      minLength: 1,
      maxLength: 3,
    },
  )
  .map((words) => words.join(' '));

/** Slack's mrkdwn around a link; Slack escapes & in the text as &amp; (also inside <...>). */
const wrapped = (link: Generated) =>
  fc
    .record({
      form: fc.constantFrom(
        'bare',
        'angle',
        'labelled',
        'code',
        'block',
        'block-inline',
        'italic',
        'bold',
        'strike',
        'italic-labelled',
        'bold-angle',
        'bold-italic',
        'parens',
        'period',
        'comma',
        'quoted',
      ),
      label,
    })
    .map(({ form, label }) => {
      const u = link.url.replace(/&/g, '&amp;');
      const text = {
        bare: u,
        angle: `<${u}>`,
        labelled: `<${u}|${label}>`,
        code: `\`${u}\``,
        block: `\`\`\`\n${u}\n\`\`\``,
        'block-inline': `\`\`\`${u}\`\`\``,
        italic: `_${u}_`,
        bold: `*${u}*`,
        strike: `~${u}~`,
        'italic-labelled': `_<${u}|${label}>_`,
        'bold-angle': `*<${u}>*`,
        'bold-italic': `*_${u}_*`,
        parens: `(${u})`,
        period: `${u}.`,
        comma: `${u},`,
        quoted: `"${u}"`,
      }[form];
      return { text, link };
    });

const filler = fc.constantFrom(
  'Please process this credit request',
  'thanks!',
  ':moneybag:',
  '> quoted line',
  '• bullet',
  '1. first',
  'cc <@U0123ABCD>',
  'in <#C0123ABCD|credit_memo>',
  '&lt;not a tag&gt;',
  'AC0123 — fraud',
  '*Account:* ACME',
  '_urgent_',
);

const message = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.oneof(look, explore, short).chain(wrapped) },
      { weight: 1, arbitrary: unreadable.chain(wrapped) },
      { weight: 1, arbitrary: otherHost.chain(wrapped) },
      { weight: 2, arbitrary: filler.map((text) => ({ text, link: null })) },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .chain((parts) =>
    fc
      .array(fc.constantFrom(' ', '\n', ' - ', ', ', '\n\n', ' and '), {
        minLength: parts.length,
        maxLength: parts.length,
      })
      .map((separators) => ({
        text: parts.map((p, i) => (i ? separators[i] : '') + p.text).join(''),
        links: parts.flatMap((p) => (p.link ? [p.link] : [])),
      })),
  );

const identity = (link: ScannedLink) =>
  link.kind === 'look'
    ? `look:${link.lookId}`
    : link.kind === 'unreadable'
      ? `url:${link.url}`
      : `${link.kind}:${link.slug}`;

describe('Looker links in generated Slack messages', () => {
  it('finds every link to the Looker host, once, in order, whatever the formatting', () => {
    fc.assert(
      fc.property(message, ({ text, links }) => {
        const expected = [...new Set(links.flatMap((l) => (l.expect ? [l.expect] : [])))];
        const found = scanLookerLinks(text, HOST);
        expect(found.map(identity)).toEqual(expected);
        for (const link of found) {
          // Every link the scanner gives is on the host, and an unreadable one says why.
          expect(new URL(link.url).host).toBe(HOST);
          if (link.kind === 'unreadable') expect(link.reason.length).toBeGreaterThan(10);
        }
      }),
      { seed: 20261201, numRuns: 400 },
    );
  });
});

describe('Looker links, case by case', () => {
  const scan = (text: string) => scanLookerLinks(text, HOST).map((l) => [l.kind, describeLink(l)]);

  it('reads links in code, code blocks, italic, bold, strike and labelled angle brackets', () => {
    expect(scan(`\`https://${HOST}/looks/1\``)).toEqual([['look', 'Look 1']]);
    expect(scan(`\`\`\`https://${HOST}/looks/2\`\`\``)).toEqual([['look', 'Look 2']]);
    expect(scan(`_https://${HOST}/x/Abc123_`)).toEqual([['short', 'short link Abc123']]);
    expect(scan(`*<https://${HOST}/explore/sms/traffic?qid=Q1&amp;toggle=fil|see>*`)).toEqual([
      ['explore', 'Explore sms/traffic (qid Q1)'],
    ]);
    expect(scan(`~https://${HOST}/looks/3~ and https://${HOST}/looks/4,https://${HOST}/looks/5`)).toEqual([
      ['look', 'Look 3'],
      ['look', 'Look 4'],
      ['look', 'Look 5'],
    ]);
  });

  it('names an Explore without qid and a dashboard as unreadable, with the reason', () => {
    const found = scanLookerLinks(
      `https://${HOST}/explore/sms/traffic?fields=traffic.count and <https://${HOST}/dashboards/12|dash>`,
      HOST,
    );
    expect(found).toEqual([
      {
        kind: 'unreadable',
        url: `https://${HOST}/explore/sms/traffic?fields=traffic.count`,
        reason: expect.stringContaining('without qid='),
      },
      {
        kind: 'unreadable',
        url: `https://${HOST}/dashboards/12`,
        reason: expect.stringContaining('dashboard'),
      },
    ]);
  });
});

describe("Looker's answers to run/json", () => {
  it('takes a list of rows, and gives looker_error (HTTP 200) as the reason', () => {
    expect(lookerRows('7', [{ 'a.b': 1 }])).toEqual([{ 'a.b': 1 }]);
    expect(lookerRows('7', [])).toEqual([]);
    expect(() =>
      lookerRows('7', [{ looker_error: 'SQL compilation error: invalid identifier COUNTERS.COST' }]),
    ).toThrow('Looker could not run query 7: SQL compilation error: invalid identifier COUNTERS.COST');
    expect(() => lookerRows('7', { looker_error: 'timeout' })).toThrow(/could not run query 7: timeout/);
    expect(() => lookerRows('7', { rows: [] })).toThrow(/did not return a list of rows/);
  });
});

describe('one query, one credit (generated messages)', () => {
  // An in-memory Looker: Looks, qid slugs and short links map onto a few queries, each with a
  // fraud cost in the off mode (no block rate), so a query's credit is its cost.
  const settings = {
    lookerHost: HOST,
    verifyPatterns: [/authy/i],
    calculators: { verify: { kind: 'builtin' as const }, psms: { kind: 'none' as const } },
    notebook: {
      parameter: 'looker',
      summaryHeading: 'Summary Info',
      timeoutMs: 1000,
      jupyter: 'x',
      kernel: 'x',
      env: {},
      concurrency: 1,
    },
    blockRates: { off: 0 },
  };
  const queryCents = [12_345, 1, 99_999, 500_050];
  const source = (rowFetches: number[]): QuerySource => ({
    async queryIdOf(link) {
      const n = Number(link.kind === 'look' ? link.lookId : link.slug.replace(/\D/g, '')) % queryCents.length;
      return `q${n}`;
    },
    async query(queryId) {
      const n = Number(queryId.slice(1));
      return {
        queryId,
        sql: `select * from authy_traffic where q = ${n}`,
        rows: async () => {
          rowFetches[n] = (rowFetches[n] ?? 0) + 1;
          return [{ mode: 'off', msg_count: 1, fraud_cost: (queryCents[n] as number) / 100 }];
        },
      };
    },
    async close() {},
  });
  const link = fc.oneof(
    fc.nat(40).map((n) => `https://${HOST}/looks/${n}`),
    fc.nat(40).map((n) => `https://${HOST}/explore/sms/traffic?qid=Q${n}`),
    fc.nat(40).map((n) => `https://${HOST}/x/S${n}`),
  );

  it('credits each query once, names the other links, and asks for its rows once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(link, { minLength: 1, maxLength: 10 }), async (urls) => {
        const fetches: number[] = [];
        const text = urls.map((u) => `<${u}|link>`).join(' and ');
        const summary = await computeCredit(settings, source(fetches), text);
        const scanned = scanLookerLinks(text, HOST);
        const queries = new Set<number>();
        for (const l of scanned)
          queries.add(
            Number(l.kind === 'look' ? l.lookId : l.kind === 'unreadable' ? -1 : l.slug.replace(/\D/g, '')) %
              queryCents.length,
          );
        expect(summary.amountCents).toBe([...queries].reduce((sum, n) => sum + (queryCents[n] as number), 0));
        expect(summary.links).toHaveLength(scanned.length);
        expect(summary.links.filter((l) => l.status === 'credited')).toHaveLength(queries.size);
        expect(summary.links.filter((l) => l.status === 'same_query')).toHaveLength(
          scanned.length - queries.size,
        );
        for (const n of queries) expect(fetches[n]).toBe(1);
      }),
      { seed: 15, numRuns: 200 },
    );
  });
});
