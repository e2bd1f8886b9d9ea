// Running a query's SQL outside Looker: on Trino (trino-client against a fake coordinator, every
// page checked for errors) and on PostgreSQL (read-only), and a request answered that way.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsApp } from '../src/apps/credits/app.ts';
import { builtinCredit } from '../src/apps/credits/calculators/builtin.ts';
import { postgresRunner, trinoRunner } from '../src/apps/credits/runners.ts';
import { type FakeTrino, startFakeTrino } from './fakes/trino.ts';
import { TEST_DATABASE_URL } from './helpers/databases.ts';
import { startTestService } from './helpers/service.ts';

describe('the Trino runner', () => {
  let trino: FakeTrino;
  beforeAll(async () => {
    trino = await startFakeTrino({ pageSize: 2 });
    trino.addResult('authy_traffic', {
      columns: [
        { name: 'fraud_guard_mode', type: 'varchar' },
        { name: 'msg_count', type: 'bigint' },
        { name: 'fraud_cost', type: 'decimal(14,6)' },
      ],
      rows: [
        ['basic', 20512, '4331.184500'],
        ['basic', 15132, '3195.115500'],
        ['off', 10, '12.345000'],
        ['standard', 900, '1000.000000'],
        ['maximum', 5, '100.000000'],
      ],
    });
    trino.failOn('broken_later', 2);
    trino.failOn('broken_at_once', 0);
  });
  afterAll(async () => {
    await trino?.close();
  });
  const runner = () =>
    trinoRunner({ kind: 'trino', url: trino.url, user: 'credits', catalog: 'hive', schema: 'sms' });

  it('reads every page into rows by column name', async () => {
    const rows = await runner().run("select * from authy_traffic where product = 'Authy Verify';");
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({ fraud_guard_mode: 'basic', msg_count: 20512, fraud_cost: '4331.184500' });
    expect(builtinCredit(rows, { off: 0, basic: 4160, standard: 6500, maximum: 8500 }).creditCents).toBe(
      439536 + 1235 + 35000 + 1500,
    );
    const statement = trino.requests.find((r) => r.method === 'POST');
    expect(statement?.rawBody).not.toMatch(/;\s*$/);
    expect(statement?.headers['x-trino-user']).toBe('credits');
    expect(statement?.headers['x-trino-catalog']).toBe('hive');
  });

  it('fails on an error on any page, the first one included', async () => {
    await expect(runner().run('select * from broken_later')).rejects.toMatchObject({
      code: 'runner_failed',
      transient: false,
      message: 'Trino: SYNTAX_ERROR: line 1:1: mismatched input',
    });
    await expect(runner().run('select * from broken_at_once')).rejects.toMatchObject({
      code: 'runner_failed',
    });
    await expect(runner().run('select * from unknown_table')).rejects.toMatchObject({
      message: 'Trino: SYNTAX_ERROR: Table not found',
    });
  });

  it('calls an unreachable coordinator a transient failure', async () => {
    const gone = trinoRunner({
      kind: 'trino',
      url: 'http://127.0.0.1:9',
      user: 'x',
      catalog: undefined,
      schema: undefined,
    });
    await expect(gone.run('select 1')).rejects.toMatchObject({ code: 'runner_failed', transient: true });
  });
});

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL runner', () => {
  it('runs the SQL read-only, with exact decimals', async () => {
    const runner = postgresRunner(TEST_DATABASE_URL as string, 5000);
    try {
      const rows = await runner.run(
        "select 'basic' as fraud_guard_mode, 2::int as msg_count, 7526.300000::numeric(14,6) as fraud_cost",
      );
      expect(rows).toEqual([{ fraud_guard_mode: 'basic', msg_count: 2, fraud_cost: '7526.300000' }]);
      await expect(runner.run('create table credits_runner_should_not_exist (id int)')).rejects.toMatchObject(
        {
          code: 'runner_failed',
          message: expect.stringContaining('read-only transaction'),
        },
      );
      await expect(runner.run('select * from no_such_table')).rejects.toMatchObject({
        code: 'runner_failed',
      });
    } finally {
      await runner.close();
    }
    const gone = postgresRunner('postgres://postgres@127.0.0.1:9/test', 2000);
    await expect(gone.run('select 1')).rejects.toMatchObject({ transient: true });
    await gone.close();
  });

  it('answers a request whose rows come from the configured PostgreSQL', async () => {
    // The sandbox Looker's SQL, run by the runner on a database whose sample rows say otherwise.
    const first = await startTestService('postgres', { apps: [creditsApp] });
    const url = first.target.location;
    await first.service.stop();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        "update credit_sample_sms_traffic set fraud_cost = 1000 where fraud_guard_mode = 'basic'",
      );
    } finally {
      await client.end();
    }
    const running = await startTestService('postgres', {
      apps: [creditsApp],
      target: first.target,
      env: { CREDITS_QUERY_RUNNER: 'postgres', CREDITS_QUERY_DATABASE_URL: url },
    });
    try {
      const answer = await running.service.app.inject({
        method: 'POST',
        url: '/credits/requests',
        payload: { text: 'https://looker.sandbox.localhost/looks/1' },
      });
      // basic: 2 rows x $1,000 x (1 - 0.416) = $1,168.00
      expect(answer.json()).toMatchObject({ status: 'done', amountCents: 116800 });
    } finally {
      await running.dispose();
      await first.target.drop();
    }
  });
});
