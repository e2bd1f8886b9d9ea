// The work of one request: each Looker link resolved to its query, its product detected, its credit
// computed by that product's calculator, and the credits summed. A product without a calculator is
// skipped, and the summary says which link and why.
import type { CalculatorSetting, CreditsConfig } from '../../config.ts';
import { formatMoney } from '../../platform/money.ts';
import { builtinCredit, type SummaryRow } from './calculators/builtin.ts';
import type { NotebookRecord } from './calculators/notebook.ts';
import { CreditError } from './credit-error.ts';
import { describeLink, extractLookerLinks, type LookerLink } from './links.ts';
import { inlineNotebooks, type NotebookExecutor } from './notebook-queue.ts';
import { detectProduct, PRODUCT_NAMES, type Product } from './product.ts';
import type { QuerySource } from './query-source.ts';

export interface LinkOutcome {
  url: string;
  link: string;
  queryId: string;
  product: Product;
  calculator: CalculatorSetting['kind'];
  status: 'credited' | 'skipped';
  reason?: string;
  creditCents?: number;
  table?: SummaryRow[];
  /** The notebook's summary outputs as text (never the whole notebook). */
  summaryText?: string;
  durationMs: number;
  kernelMs?: number;
  /** The notebook's path and hash, the summary cells' source and output, the table read. */
  notebook?: NotebookRecord;
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

export type ComputeSettings = Pick<
  CreditsConfig,
  'lookerHost' | 'verifyPatterns' | 'calculators' | 'notebook' | 'blockRates'
>;

export function linksIn(text: string, settings: Pick<CreditsConfig, 'lookerHost'>): LookerLink[] {
  return extractLookerLinks(text, settings.lookerHost);
}

export async function computeCredit(
  settings: ComputeSettings,
  source: QuerySource,
  text: string,
  now: () => number = Date.now,
  /** Where notebooks run: their own queue in the service, this process without one (CLI, tests). */
  notebooks: NotebookExecutor = inlineNotebooks(settings.notebook),
): Promise<CreditSummary> {
  const started = now();
  const links = linksIn(text, settings);
  if (links.length === 0)
    throw new CreditError('no_links', `the message has no Looker link on ${settings.lookerHost}`);
  const outcomes: LinkOutcome[] = [];
  // One after another: the notebook kernel and Looker's query queue are the scarce resources.
  for (const link of links) {
    const linkStarted = now();
    const query = await source.resolve(link);
    const product = detectProduct(query.sql, settings.verifyPatterns);
    const calculator = settings.calculators[product];
    const base = { url: link.url, link: describeLink(link), queryId: query.queryId, product };
    if (calculator.kind === 'none') {
      outcomes.push({
        ...base,
        calculator: 'none',
        status: 'skipped',
        reason: `${PRODUCT_NAMES[product]} query: no calculator is configured for ${PRODUCT_NAMES[product]}`,
        durationMs: now() - linkStarted,
      });
      continue;
    }
    if (calculator.kind === 'builtin') {
      const result = builtinCredit(await query.rows(), settings.blockRates);
      outcomes.push({
        ...base,
        calculator: 'builtin',
        status: 'credited',
        creditCents: result.creditCents,
        table: result.table,
        durationMs: now() - linkStarted,
      });
    } else {
      // The SQL always; the rows only if the notebook declares a rows parameter.
      const result = await notebooks.run(calculator.path, {
        sql: query.sql,
        rows: () => query.rows(),
        blockRates: settings.blockRates,
      });
      outcomes.push({
        ...base,
        calculator: 'notebook',
        status: 'credited',
        creditCents: result.creditCents,
        table: result.table,
        summaryText: result.summaryText,
        durationMs: now() - linkStarted,
        kernelMs: result.kernelMs,
        notebook: result.notebook,
      });
    }
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
    skipped: outcomes.length - credited.length,
    durationMs: now() - started,
  };
}

/** The thread reply: the template with the amount, then one line per skipped link. */
export function replyText(template: string, summary: CreditSummary): string {
  const skipped = summary.links.filter((o) => o.status === 'skipped');
  const notes = skipped.map((o) => `Skipped ${o.link}: ${o.reason}`);
  if (summary.credited === 0) return ['No credit computed.', ...notes].join('\n');
  return [template.replaceAll('{amount}', summary.amount), ...notes].join('\n');
}
