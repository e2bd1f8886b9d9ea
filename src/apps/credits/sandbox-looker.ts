// The embedded default when no Looker credentials are set: a stand-in Looker host
// (https://looker.sandbox.localhost) with a few sample Looks, an Explore and a short link, whose
// queries read the sample SMS-traffic table in Switchboard's own database. Clearly labelled: the
// links exist nowhere else, and nothing here reaches a real Looker.
import type { Database } from '../../platform/db/database.ts';
import { CreditError } from './credit-error.ts';
import type { LookerLink } from './links.ts';
import type { QueryRow, QueryRunner, QuerySource } from './query-source.ts';
import { creditSampleTraffic } from './schema.ts';

/** A sample Look's SQL: one product's traffic for one account, by Fraud Guard mode. */
const trafficSql = (product: 'Authy Verify' | 'Programmable SMS', account: string) =>
  `select fraud_guard_mode as "sms_traffic.fraud_guard_mode",
  sum(msg_count)::int as "sms_traffic.msg_count",
  sum(fraud_cost)::text as "sms_traffic.fraud_cost"
from credit_sample_sms_traffic
where product = '${product}' and account_sid = '${account}'
group by 1
order by 1`;
const verifySql = (account: string) => trafficSql('Authy Verify', account);
const psmsSql = (account: string) => trafficSql('Programmable SMS', account);

const ACCOUNT_A = 'AC00000000000000000000000000000a01';
const ACCOUNT_B = 'AC00000000000000000000000000000b02';

/** The sample queries by id, and how links reach them. */
export const SANDBOX_QUERIES: Record<string, { title: string; sql: string }> = {
  '101': { title: 'Verify toll fraud, account A (basic Fraud Guard)', sql: verifySql(ACCOUNT_A) },
  '102': { title: 'PSMS toll fraud, account A', sql: psmsSql(ACCOUNT_A) },
  '103': { title: 'Verify toll fraud, account B (mixed modes)', sql: verifySql(ACCOUNT_B) },
};
export const SANDBOX_LOOKS: Record<string, string> = { '1': '101', '2': '102', '3': '103' };
export const SANDBOX_SLUGS: Record<string, string> = { SandboxVerifyB3: '103', Sbx7Short: '101' };

export function sandboxLinks(host: string): Array<{ url: string; title: string }> {
  return [
    { url: `https://${host}/looks/1`, title: SANDBOX_QUERIES['101']?.title ?? '' },
    { url: `https://${host}/looks/2`, title: SANDBOX_QUERIES['102']?.title ?? '' },
    {
      url: `https://${host}/explore/sms/sms_traffic?qid=SandboxVerifyB3`,
      title: SANDBOX_QUERIES['103']?.title ?? '',
    },
    { url: `https://${host}/x/Sbx7Short`, title: `${SANDBOX_QUERIES['101']?.title} (short link)` },
  ];
}

/** The sample traffic: fraud cost as exact decimals, several rows per mode. */
const SAMPLE_ROWS: Array<[string, string, string, string, number, string]> = [
  [ACCOUNT_A, 'Authy Verify', 'basic', 'UZ', 20512, '4331.184500'],
  [ACCOUNT_A, 'Authy Verify', 'basic', 'KG', 15132, '3195.115500'],
  [ACCOUNT_A, 'Programmable SMS', 'off', 'TJ', 8210, '1203.770000'],
  [ACCOUNT_B, 'Authy Verify', 'standard', 'MM', 12000, '2400.005000'],
  [ACCOUNT_B, 'Authy Verify', 'maximum', 'LA', 3100, '612.345600'],
  [ACCOUNT_B, 'Authy Verify', 'off', 'KH', 900, '88.200000'],
];

/** Fills the sample table once (an existing row is left alone). */
export async function seedSampleTraffic(db: Database): Promise<void> {
  await db.orm
    .insert(creditSampleTraffic)
    .values(
      SAMPLE_ROWS.map(
        ([accountSid, product, fraudGuardMode, destinationCountry, msgCount, fraudCost], i) => ({
          id: i + 1,
          accountSid,
          product,
          fraudGuardMode,
          destinationCountry,
          msgCount,
          fraudCost,
        }),
      ),
    )
    .onConflictDoNothing();
}

export function sandboxLookerSource(db: Database, runner?: QueryRunner): QuerySource {
  return {
    async queryIdOf(link: LookerLink) {
      // Own keys only: a link to /x/constructor must not find Object.prototype's members.
      const queryId = link.kind === 'look' ? own(SANDBOX_LOOKS, link.lookId) : own(SANDBOX_SLUGS, link.slug);
      if (!queryId) {
        const what = link.kind === 'look' ? `Look ${link.lookId}` : `query ${link.slug}`;
        throw new CreditError('query_not_found', `the sandbox Looker has no ${what} (404)`);
      }
      return queryId;
    },
    async query(queryId: string) {
      const query = own(SANDBOX_QUERIES, queryId);
      if (!query)
        throw new CreditError('query_not_found', `the sandbox Looker has no query ${queryId} (404)`);
      return {
        queryId,
        sql: query.sql,
        rows: () => (runner ? runner.run(query.sql) : db.query<QueryRow>(query.sql)),
      };
    },
    async close() {},
  };
}

const own = <T>(table: Record<string, T>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;
