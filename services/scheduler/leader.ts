// One scheduler among several instances on one PostgreSQL: the holder of a session-level advisory lock runs
// the jobs that must not run twice (reminders, escalations, silence ends, stuck-bucket checks). The lock
// lives on a connection of its own; when the leader dies its connection closes and PostgreSQL frees the lock,
// and the next instance to ask (every second) takes it. A leader that cannot reach the database any more
// steps down at once, and PostgreSQL ends its session after 5 s without a word, so two leaders never act at
// the same time for longer than one poll. [docs/operations.md Leader election]
import pg from 'pg';
import type { Logger } from 'pino';

/** pg_try_advisory_lock key: 'Regenwacht scheduler' as a fixed 63-bit number */
export const SCHEDULER_LOCK_KEY = '5920342510043713537';

export interface Leadership {
  isLeader(): boolean;
  /** called with true when this instance became leader, false when it lost or handed over the lock */
  onChange(fn: (leader: boolean) => void): void;
  /** hands the lock over (unlock, close the connection); the next instance takes it within one poll */
  stop(): Promise<void>;
}

/** The embedded store belongs to one process: it always leads. */
export function soleLeader(): Leadership {
  return { isLeader: () => true, onChange: () => {}, stop: async () => {} };
}

export function startLeaderElection(url: string, log: Logger, o: { pollMs?: number; key?: string } = {}): Leadership {
  const l = log.child({ component: 'leader' });
  const pollMs = o.pollMs ?? 1000;
  const key = o.key ?? SCHEDULER_LOCK_KEY;
  let client: pg.Client | undefined;
  let leader = false;
  let stopped = false;
  let busy: Promise<void> | undefined;
  const listeners: Array<(leader: boolean) => void> = [];
  const set = (v: boolean, why: string) => {
    if (v === leader) return;
    leader = v;
    l.info({ leader: v, why }, v ? 'this instance leads the scheduler' : 'this instance no longer leads the scheduler');
    for (const f of listeners) f(v);
  };
  const drop = (why: string) => {
    const c = client;
    client = undefined;
    set(false, why);
    c?.end().catch(() => {});
  };
  const connect = async () => {
    const c = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 3000,
      query_timeout: 2000,
      keepAlive: true,
      application_name: 'regenwacht-leader',
      // PostgreSQL ends a session it has not heard from for 5 s (a leader cut off by the network): its lock
      // is then free. The leader itself polls every second, so it is never idle that long while alive.
      options: '-c idle_session_timeout=5000',
    });
    c.on('error', (e) => {
      if (client === c) drop(`leader connection error: ${e.message}`);
    });
    await c.connect();
    return c;
  };
  const poll = async () => {
    try {
      if (!client) client = await connect();
      if (leader) {
        await client.query('select 1');
        return;
      }
      const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [key]);
      if (r.rows[0]?.ok && !stopped) set(true, 'advisory lock taken');
    } catch (e) {
      drop(`database unreachable: ${(e as Error).message}`);
    }
  };
  const tick = () => {
    if (stopped || busy) return;
    busy = poll().finally(() => {
      busy = undefined;
    });
  };
  const timer = setInterval(tick, pollMs);
  timer.unref();
  tick();
  return {
    isLeader: () => leader,
    onChange: (fn) => void listeners.push(fn),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy;
      const c = client;
      client = undefined;
      if (c && leader) await c.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
      set(false, 'handed over at shutdown');
      await c?.end().catch(() => {});
    },
  };
}
