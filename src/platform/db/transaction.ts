// The caller owns the transaction: data-access functions take `DbOrTx`, so an app's business
// change and the rows it adds elsewhere (an outbox message, a job) commit together or not at all.
import type { Database, Orm } from './database.ts';

export type Tx = Parameters<Parameters<Orm['transaction']>[0]>[0];
export type DbOrTx = Orm | Tx;

export function withTransaction<T>(db: Pick<Database, 'orm'>, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.orm.transaction(work);
}
