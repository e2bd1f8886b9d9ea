// Every row of every table the service's database holds (the app's, the platform's, pg-boss's), as
// JSON text, for tests that check what must never be stored (card numbers, secrets).
import type { Database } from '../../src/platform/db/database.ts';

export async function dumpAllRows(db: Database): Promise<string[]> {
  const tables = await db.query<{ table_schema: string; table_name: string }>(
    `select table_schema, table_name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
  );
  const rows: string[] = [];
  for (const { table_schema, table_name } of tables) {
    const name = `"${table_schema.replace(/"/g, '""')}"."${table_name.replace(/"/g, '""')}"`;
    const found = await db.query<{ row: string }>(`select row_to_json(t)::text as row from ${name} t`);
    for (const { row } of found) rows.push(`${table_schema}.${table_name}: ${row}`);
  }
  return rows;
}
