// The daily token budget lives in the database, per UTC day and purpose, so every worker process
// spends from the same budget and a restart does not reset it.
import type { Database } from '../db/database.ts';

type Db = Pick<Database, 'query'>;

export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** Tokens (in + out) spent on `day` by every purpose. */
export async function tokensSpent(db: Db, day: string): Promise<number> {
  const [row] = await db.query<{ spent: string | number | null }>(
    'select coalesce(sum(input_tokens + output_tokens), 0) as spent from ai_usage_daily where day = $1',
    [day],
  );
  return Number(row?.spent ?? 0);
}

export interface UsageDelta {
  calls?: number;
  inputTokens?: number;
  outputTokens?: number;
  failures?: number;
  fallbacks?: number;
}

export async function recordUsage(db: Db, day: string, purpose: string, delta: UsageDelta): Promise<void> {
  await db.query(
    `insert into ai_usage_daily (day, purpose, calls, input_tokens, output_tokens, failures, fallbacks)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (day, purpose) do update set
       calls = ai_usage_daily.calls + excluded.calls,
       input_tokens = ai_usage_daily.input_tokens + excluded.input_tokens,
       output_tokens = ai_usage_daily.output_tokens + excluded.output_tokens,
       failures = ai_usage_daily.failures + excluded.failures,
       fallbacks = ai_usage_daily.fallbacks + excluded.fallbacks,
       updated_at = now()`,
    [
      day,
      purpose,
      delta.calls ?? 0,
      delta.inputTokens ?? 0,
      delta.outputTokens ?? 0,
      delta.failures ?? 0,
      delta.fallbacks ?? 0,
    ],
  );
}

/** Today's usage by purpose, for /info and operators. */
export async function usageOn(db: Db, day: string) {
  return db.query<{ purpose: string; calls: number; input_tokens: string; output_tokens: string }>(
    'select purpose, calls, input_tokens, output_tokens, failures, fallbacks from ai_usage_daily where day = $1 order by purpose',
    [day],
  );
}
