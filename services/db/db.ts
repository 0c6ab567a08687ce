// One small interface over the two drivers (pg Pool, embedded PGlite + TimescaleDB). [docs/architecture.md]
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** runs a script of several statements (migrations) */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** true once the timescaledb extension is installed in this database */
  timescale: boolean;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** cheap liveness probe for /readyz */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Connection-level failures (database down, network cut) as opposed to bad SQL or constraint violations. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (!e) return false;
  if (e.code && /^(08|57P0)/.test(e.code)) return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}
