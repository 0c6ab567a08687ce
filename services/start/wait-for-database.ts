// PostgreSQL may still be starting (docker-compose, systemd): wait for it, then say clearly if it never came.
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import { databaseRefusal, StartError } from '../start-checks.ts';

/** host:port/database of a DATABASE_URL, never the password. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

export async function waitForDatabase(db: Db, url: string, maxMs: number, log: Logger): Promise<void> {
  const where = describe(url);
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query('select 1');
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const refusal = databaseRefusal(e, where);
      if (refusal) throw refusal;
      if (Date.now() - t0 >= maxMs) {
        throw new StartError(
          'DATABASE_UNREACHABLE',
          `cannot reach the database at ${where} (${err.code ?? err.message}) after ${Math.round(maxMs / 1000)} s; check DATABASE_URL and that PostgreSQL is running`,
        );
      }
      if (attempt === 1 || attempt % 10 === 0) log.warn({ database: where, err: err.code ?? err.message }, 'waiting for the database');
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
    }
  }
}
