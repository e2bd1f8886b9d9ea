// The work of one request. Every link to the Looker host is accounted for: first each readable
// link is resolved to the query it names (a Look to its query, a qid or short link to its slug's
// query), so a query linked twice (a Look and its Explore) is credited once and the others are
// named as the same query; then each query's SQL is read, its product detected and its credit
// computed by that product's calculator (the rows fetched only if the calculator needs them);
// a product without a calculator is skipped, and a link that names no query is named as
// unreadable, each with the reason. A link that fails stops the request: the error carries what
// was done so far (`progressOf`), for the stored summary of a failed request.

import { createHash } from 'node:crypto';
import { formatMoney } from '../../platform/money.ts';
import { errorText } from '../../platform/redact.ts';
import { builtinCredit, type SummaryRow } from './calculators/builtin.ts';
import { type CalculatorInput, type CalculatorResult, lazyRows } from './calculators/calculator.ts';
import type { NotebookRecord } from './calculators/notebook.ts';
import type { CalculatorSetting, CreditsConfig } from './config.ts';
import { CreditError } from './credit-error.ts';
import { describeLink, type LookerLink, type ScannedLink, scanLookerLinks } from './links.ts';
import { inlineNotebooks, type NotebookExecutor } from './notebook-queue.ts';
import { detectProduct, PRODUCT_NAMES, type Product } from './product.ts';
import type { QuerySource } from './query-source.ts';

export type LinkStatus = 'credited' | 'skipped' | 'same_query' | 'unreadable' | 'failed';

export interface LinkOutcome {
  url: string;
  link: string;
  status: LinkStatus;
  /** Set once the link resolved to its query. */
  queryId?: string;
  /** sha256 of the query's SQL, hex. */
  sqlHash?: string;
  /** The SQL itself, with CREDITS_KEEP_SQL=true. */
  sql?: string;
  product?: Product;
  /** The Twilio account SIDs the query's SQL names (a request's history is kept per account). */
  accounts?: string[];
  calculator?: CalculatorSetting['kind'];
  reason?: string;
  /** same_query: the link that was credited for this query. */
  sameQueryAs?: string;
  creditCents?: number;
  table?: SummaryRow[];
  /** The notebook's summary outputs as text (never the whole notebook). */
  summaryText?: string;
  /** The notebook's record: path, sha256, parameters injected, heading, rule, summary cells, table. */
  notebook?: NotebookRecord;
  durationMs: number;
  kernelMs?: number;
}

export interface CreditSummary {
  extractedAt: string;
  links: LinkOutcome[];
  /** verify, psms, or mixed when the links differ. */
  product: Product | 'mixed' | null;
  calculator: string | null;
  table: SummaryRow[];
  amountCents: number;
  amount: string;
  credited: number;
  skipped: number;
  durationMs: number;
}

/** What a failed request keeps: each link it got through, and the one that failed. */
export interface CreditProgress {
  extractedAt: string;
  links: LinkOutcome[];
  failure: { link: string | null; code: string; reason: string };
  durationMs: number;
}

export type ComputeSettings = Pick<
  CreditsConfig,
  'lookerHost' | 'verifyPatterns' | 'calculators' | 'notebook' | 'blockRates'
> &
  Partial<Pick<CreditsConfig, 'keepSql'>>;

/** Every link to the Looker host in the text, readable or not. */
export function linksIn(text: string, settings: Pick<CreditsConfig, 'lookerHost'>): ScannedLink[] {
  return scanLookerLinks(text, settings.lookerHost);
}

const PROGRESS = Symbol('credit progress');

/** The progress a failed computeCredit attached to its error, if any. */
export const progressOf = (error: unknown): CreditProgress | undefined =>
  error && typeof error === 'object' ? (error as { [PROGRESS]?: CreditProgress })[PROGRESS] : undefined;

/** `AC` and 32 hex digits: an account SID, whose earlier requests are the history a check reads. */
export const accountSids = (text: string): string[] => [
  ...new Set(text.match(/\bAC[0-9a-f]{32}\b/gi)?.map((sid) => `AC${sid.slice(2).toLowerCase()}`) ?? []),
];
const accountsOf = (sql: string) => {
  const found = accountSids(sql);
  return found.length ? { accounts: found } : {};
};

export const sqlHash = (sql: string) => createHash('sha256').update(sql).digest('hex');

export async function computeCredit(
  settings: ComputeSettings,
  source: QuerySource,
  text: string,
  now: () => number = Date.now,
  /** Where notebooks run: their own queue in the service, this process without one (CLI, tests). */
  notebooks: NotebookExecutor = inlineNotebooks(settings.notebook),
): Promise<CreditSummary> {
  const started = now();
  const scanned = linksIn(text, settings);
  if (scanned.length === 0)
    throw new CreditError('no_links', `the message has no Looker link on ${settings.lookerHost}`);
  const outcomes: LinkOutcome[] = [];
  let current: LinkOutcome | null = null;
  try {
    // 1. Each link to its query id (cheap lookups), before any query runs.
    const resolved: Array<{ link: ScannedLink; queryId?: string; started: number }> = [];
    for (const link of scanned) {
      const linkStarted = now();
      current = { url: link.url, link: describeLink(link), status: 'failed', durationMs: 0 };
      const queryId = link.kind === 'unreadable' ? undefined : await source.queryIdOf(link as LookerLink);
      resolved.push({ link, ...(queryId ? { queryId } : {}), started: linkStarted });
    }
    current = null;
    if (resolved.every((r) => r.queryId === undefined)) {
      for (const link of scanned)
        if (link.kind === 'unreadable')
          outcomes.push({
            url: link.url,
            link: link.url,
            status: 'unreadable',
            reason: link.reason,
            durationMs: 0,
          });
      throw new CreditError(
        'no_readable_links',
        `no Looker link in the message names a query: ${scanned
          .map((link) => `${link.url} (${link.kind === 'unreadable' ? link.reason : ''})`)
          .join('; ')}`,
      );
    }

    // 2. Each query once, in the order its first link appears.
    const creditedFor = new Map<string, LinkOutcome>();
    for (const { link, queryId, started: linkStarted } of resolved) {
      const base = { url: link.url, link: describeLink(link) };
      if (link.kind === 'unreadable' || !queryId) {
        outcomes.push({
          ...base,
          status: 'unreadable',
          reason: link.kind === 'unreadable' ? link.reason : 'no query',
          durationMs: 0,
        });
        continue;
      }
      const first = creditedFor.get(queryId);
      if (first) {
        outcomes.push({
          ...base,
          status: 'same_query',
          queryId,
          ...(first.sqlHash ? { sqlHash: first.sqlHash } : {}),
          sameQueryAs: first.link,
          reason: `the same query (${queryId}) as ${first.link}`,
          durationMs: 0,
        });
        continue;
      }
      current = { ...base, status: 'failed', queryId, durationMs: 0 };
      const outcome = await computeQuery(settings, source, notebooks, base, queryId, (partial) => {
        current = { ...(current as LinkOutcome), ...partial };
      });
      current = null;
      outcome.durationMs = now() - linkStarted;
      creditedFor.set(queryId, outcome);
      outcomes.push(outcome);
    }
  } catch (error) {
    const failed = current as LinkOutcome | null;
    // Stored with the request and shown by the API: scrubbed of secrets a provider may echo.
    const reason = errorText(error);
    const progress: CreditProgress = {
      extractedAt: new Date(started).toISOString(),
      links: failed ? [...outcomes, { ...failed, status: 'failed', reason }] : outcomes,
      failure: {
        link: failed?.link ?? null,
        code: error instanceof CreditError ? error.code : 'unexpected',
        reason,
      },
      durationMs: now() - started,
    };
    if (error && typeof error === 'object') Object.assign(error, { [PROGRESS]: progress });
    // The operator reads which link failed; the error's own words say why.
    if (error instanceof CreditError && failed && !reason.includes(failed.link))
      error.message = `${failed.link}: ${reason}`;
    throw error;
  }
  const credited = outcomes.filter((o) => o.status === 'credited');
  const amountCents = credited.reduce((sum, o) => sum + (o.creditCents ?? 0), 0);
  const products = [...new Set(credited.map((o) => o.product))];
  const calculators = [...new Set(credited.map((o) => o.calculator))];
  return {
    extractedAt: new Date(started).toISOString(),
    links: outcomes,
    product: products.length === 1 ? (products[0] as Product) : products.length > 1 ? 'mixed' : null,
    calculator: calculators.length ? calculators.join(',') : null,
    table: credited.flatMap((o) => o.table ?? []),
    amountCents,
    amount: formatMoney(amountCents, 'USD'),
    credited: credited.length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    durationMs: now() - started,
  };
}

/** One query: its SQL, product and calculator; `note` records what is known before a failure. */
async function computeQuery(
  settings: ComputeSettings,
  source: QuerySource,
  notebooks: NotebookExecutor,
  base: { url: string; link: string },
  queryId: string,
  note: (partial: Partial<LinkOutcome>) => void,
): Promise<LinkOutcome> {
  const query = await source.query(queryId);
  const known = {
    ...base,
    queryId,
    sqlHash: sqlHash(query.sql),
    ...(settings.keepSql ? { sql: query.sql } : {}),
    product: detectProduct(query.sql, settings.verifyPatterns),
    ...accountsOf(query.sql),
  };
  const product = known.product;
  const calculator = settings.calculators[product];
  note({ ...known, calculator: calculator.kind });
  if (calculator.kind === 'none')
    return {
      ...known,
      calculator: 'none',
      status: 'skipped',
      reason: `${PRODUCT_NAMES[product]} query: no calculator is configured for ${PRODUCT_NAMES[product]}`,
      durationMs: 0,
    };
  const input: CalculatorInput = {
    queryId,
    sql: query.sql,
    rows: lazyRows(() => query.rows()),
    blockRates: settings.blockRates,
  };
  // The built-in calculator needs the rows; the notebook asks for them only if it reads them.
  const result: CalculatorResult =
    calculator.kind === 'builtin'
      ? builtinCredit(await input.rows(), input.blockRates)
      : await notebooks.run(calculator.path, input);
  return {
    ...known,
    calculator: calculator.kind,
    status: 'credited',
    creditCents: result.creditCents,
    table: result.table,
    ...(result.summaryText !== undefined ? { summaryText: result.summaryText } : {}),
    ...(result.notebook ? { notebook: result.notebook } : {}),
    ...(result.kernelMs !== undefined ? { kernelMs: result.kernelMs } : {}),
    durationMs: 0,
  };
}

/**
 * The thread reply: the template with the amount, then a line for each link not credited on its
 * own: the same query as another link, skipped (with why), or unreadable (with why).
 */
export function replyText(template: string, summary: CreditSummary): string {
  const notes: string[] = [];
  const sameAs = new Map<string, LinkOutcome[]>();
  for (const o of summary.links)
    if (o.status === 'same_query' && o.sameQueryAs)
      sameAs.set(o.sameQueryAs, [...(sameAs.get(o.sameQueryAs) ?? []), o]);
  for (const [first, others] of sameAs)
    notes.push(
      `Same query, counted once: ${[first, ...others.map((o) => o.link)].join(' and ')} (query ${others[0]?.queryId})`,
    );
  for (const o of summary.links) {
    if (o.status === 'skipped') notes.push(`Skipped ${o.link}: ${o.reason}`);
    if (o.status === 'unreadable') notes.push(`Not read: ${o.url}: ${o.reason}`);
  }
  if (summary.credited === 0) return ['No credit computed.', ...notes].join('\n');
  return [template.replaceAll('{amount}', summary.amount), ...notes].join('\n');
}
