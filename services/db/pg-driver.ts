import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.ts';

// int8 (bigint ids, counts) as JS numbers: our ids stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// numeric as number (we never store money)
pg.types.setTypeParser(1700, (v) => Number(v));

export function createPgDb(url: string, opts: { max?: number; onError?: (e: Error) => void } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 });
  // An idle client losing its connection must not crash the process. [docs/guarantees.md]
  pool.on('error', (e) => opts.onError?.(e));
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await c.query(sql);
    },
  });
  const self = wrap(pool);
  return {
    kind: 'pg',
    timescale: false,
    query: self.query,
    exec: self.exec,
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw e;
      } finally {
        // a pooled client is reused: a listener per transaction would pile up (MaxListenersExceeded)
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
    async ping() {
      try {
        await pool.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}
