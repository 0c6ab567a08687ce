// Leader election over a PostgreSQL advisory lock: one leader among several, handed over at stop, taken
// over when the leader's session dies. [docs/operations.md Leader election]
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../../test/helpers/env.ts';
import { waitFor } from '../../test/helpers/system.ts';
import { type Leadership, startLeaderElection } from './leader.ts';

const log = pino({ level: 'silent' });

describe.runIf(REQUIRE_EXTERNAL || !!TEST_DATABASE_URL)('scheduler leader election', () => {
  const started: Leadership[] = [];
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  afterAll(async () => {
    for (const l of started) await l.stop();
    await db?.drop();
  });
  const elect = (url: string, key: string) => {
    const l = startLeaderElection(url, log, { pollMs: 200, key });
    started.push(l);
    return l;
  };
  const key = String(BigInt(Date.now()) * 1000n + BigInt(process.pid % 1000));

  it('exactly one of three leads; a stopped leader hands over at once; a killed session is taken over', async () => {
    db = await freshPgDatabase();
    const ls = [elect(db!.url, key), elect(db!.url, key), elect(db!.url, key)];
    const leader = await waitFor(() => ls.filter((l) => l.isLeader()).length === 1 && ls.find((l) => l.isLeader()), 5000, 'one leader');
    await new Promise((r) => setTimeout(r, 600));
    expect(ls.filter((l) => l.isLeader())).toHaveLength(1);

    const changes: boolean[] = [];
    leader.onChange((v) => changes.push(v));
    await leader.stop();
    expect(changes).toEqual([false]);
    const rest = ls.filter((l) => l !== leader);
    const t0 = Date.now();
    const second = await waitFor(() => rest.find((l) => l.isLeader()), 3000, 'hand-over');
    expect(Date.now() - t0).toBeLessThan(1500);

    // the leader's database session dies (process killed, connection cut): PostgreSQL frees the lock
    const admin = new pg.Client({ connectionString: db!.url });
    await admin.connect();
    await admin.query(
      `select pg_terminate_backend(l.pid) from pg_locks l where l.locktype = 'advisory' and l.granted and ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint`,
      [key],
    );
    await admin.end();
    const t1 = Date.now();
    await waitFor(() => rest.filter((l) => l.isLeader()).length === 1 && Date.now() - t1 > 0, 5000, 'take-over');
    expect(Date.now() - t1).toBeLessThanOrEqual(5000);
    expect(second).toBeDefined();
  });
});
