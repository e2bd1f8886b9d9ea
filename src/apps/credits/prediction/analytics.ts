// Credit patterns over the answered requests: totals by week and by month, by product and by Fraud
// Guard mode (from each summary's per-mode table), the largest accounts, and how credits compare to
// fraud costs (the distribution of credit-to-cost ratios, in tenths). Amounts in integer cents.
import type { Database } from '../../../platform/db/database.ts';

export interface PeriodTotal {
  period: string;
  requests: number;
  creditCents: number;
}

export interface CreditAnalytics {
  requests: number;
  creditCents: number;
  byWeek: PeriodTotal[];
  byMonth: PeriodTotal[];
  byProduct: Array<{ product: string; requests: number; creditCents: number }>;
  byMode: Array<{ mode: string; requests: number; creditCents: number; fraudCostCents: number }>;
  largestAccounts: Array<{ account: string; requests: number; creditCents: number; fraudCostCents: number }>;
  /** Buckets [from, to) of credit / fraud cost; the last holds everything from 1.0 up. */
  ratioDistribution: Array<{ from: number; to: number | null; requests: number }>;
  flagged: number;
  held: number;
}

const int = (value: unknown) => Number(value ?? 0);

export async function creditAnalytics(
  db: Database,
  options: { since?: Date; until?: Date; accounts?: number } = {},
): Promise<CreditAnalytics> {
  const since = options.since?.toISOString() ?? null;
  const until = options.until?.toISOString() ?? null;
  // One filter for every query: answered requests, optionally inside [since, until).
  const done = `r.status = 'done' and ($1::timestamptz is null or r.created_at >= $1)
    and ($2::timestamptz is null or r.created_at < $2)`;
  const args = [since, until];
  // The credit posted: a person's correction of a held reply, else the computed amount.
  const posted = 'coalesce(c.corrected_cents, r.amount_cents)';
  const answered = 'credit_requests r left join credit_checks c on c.request_id = r.id';
  const period = (unit: 'week' | 'month') =>
    db.query<{ period: string; requests: string; credit: string }>(
      `select to_char(date_trunc('${unit}', r.created_at at time zone 'UTC'), 'YYYY-MM-DD') as period,
         count(*) as requests, coalesce(sum(${posted}), 0) as credit
       from ${answered} where ${done} group by 1 order by 1`,
      args,
    );
  const [totals, weeks, months, products, modes, accounts, ratios, flags] = await Promise.all([
    db.query<{ requests: string; credit: string }>(
      `select count(*) as requests, coalesce(sum(${posted}), 0) as credit from ${answered} where ${done}`,
      args,
    ),
    period('week'),
    period('month'),
    db.query<{ product: string; requests: string; credit: string }>(
      `select coalesce(r.summary->>'product', 'none') as product, count(*) as requests,
         coalesce(sum(${posted}), 0) as credit
       from ${answered} where ${done} group by 1 order by 3 desc`,
      args,
    ),
    db.query<{ mode: string; requests: string; credit: string; cost: string }>(
      `select m->>'mode' as mode, count(distinct r.id) as requests,
         coalesce(sum((m->>'credit')::bigint), 0) as credit, coalesce(sum((m->>'fraud_cost')::bigint), 0) as cost
       from credit_requests r cross join lateral jsonb_array_elements(
         case when jsonb_typeof(r.summary->'table') = 'array' then r.summary->'table' else '[]'::jsonb end) m
       where ${done} group by 1 order by 3 desc`,
      args,
    ),
    db.query<{ account: string; requests: string; credit: string; cost: string }>(
      `select c.account, count(*) as requests, coalesce(sum(${posted}), 0) as credit,
         coalesce(sum(c.cost_cents), 0) as cost
       from credit_requests r join credit_checks c on c.request_id = r.id
       where ${done} and c.account is not null group by 1 order by 3 desc limit $3`,
      [...args, options.accounts ?? 10],
    ),
    db.query<{ bucket: number; requests: string }>(
      `select least(floor(coalesce(c.corrected_cents, c.credit_cents)::float8 / c.cost_cents * 10), 10)::int as bucket, count(*) as requests
       from credit_requests r join credit_checks c on c.request_id = r.id
       where ${done} and c.cost_cents > 0 group by 1 order by 1`,
      args,
    ),
    db.query<{ flagged: string; held: string }>(
      `select count(*) filter (where c.flag_reason is not null) as flagged,
         count(*) filter (where c.held and c.approved_at is null) as held
       from credit_requests r join credit_checks c on c.request_id = r.id where ${done}`,
      args,
    ),
  ]);
  const buckets = new Map(ratios.map((row) => [Number(row.bucket), int(row.requests)]));
  const toPeriod = (row: { period: string; requests: string; credit: string }) => ({
    period: row.period,
    requests: int(row.requests),
    creditCents: int(row.credit),
  });
  return {
    requests: int(totals[0]?.requests),
    creditCents: int(totals[0]?.credit),
    byWeek: weeks.map(toPeriod),
    byMonth: months.map(toPeriod),
    byProduct: products.map((row) => ({
      product: row.product,
      requests: int(row.requests),
      creditCents: int(row.credit),
    })),
    byMode: modes.map((row) => ({
      mode: row.mode,
      requests: int(row.requests),
      creditCents: int(row.credit),
      fraudCostCents: int(row.cost),
    })),
    largestAccounts: accounts.map((row) => ({
      account: row.account,
      requests: int(row.requests),
      creditCents: int(row.credit),
      fraudCostCents: int(row.cost),
    })),
    ratioDistribution: Array.from({ length: 11 }, (_, i) => ({
      from: i / 10,
      to: i < 10 ? (i + 1) / 10 : null,
      requests: buckets.get(i) ?? 0,
    })),
    flagged: int(flags[0]?.flagged),
    held: int(flags[0]?.held),
  };
}
