// This process's entry in the `instances` table: a heartbeat a second, removed at a graceful stop. The
// notifier marks what it claims with the id, so another instance takes over the claims of one whose
// heartbeat stopped within a few seconds. [docs/operations.md What happens on each failure]
import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';

/** One per process (several in-process test systems share it, and so share their claims). */
export const INSTANCE_ID = `${os.hostname().slice(0, 40)}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;

/** A claim of an instance silent for longer than this is free; a heartbeat comes every second. */
export const DEAD_AFTER = "interval '5 seconds'";

export interface Membership {
  stop(): Promise<void>;
}

export function startMembership(db: Db, log: Logger, everyMs = 1000): Membership {
  const beat = () =>
    db
      .query('insert into instances(id, host) values ($1, $2) on conflict (id) do update set heartbeat_at = now()', [INSTANCE_ID, os.hostname()])
      .then(() => db.query("delete from instances where heartbeat_at < now() - interval '1 day'"))
      .catch((e) => log.warn({ err: (e as Error).message }, 'instance heartbeat not written'));
  let running = beat();
  const timer = setInterval(() => {
    running = running.then(beat);
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await db.query('delete from instances where id = $1', [INSTANCE_ID]).catch(() => {});
    },
  };
}

/** SQL: the instance named by the column `col` is gone (heartbeat stopped, or it said goodbye). */
export const CLAIMED_BY_GONE_SQL_FOR = (col: string) =>
  `(${col} is not null and not exists (select 1 from instances i where i.id = ${col} and i.heartbeat_at > now() - ${DEAD_AFTER}))`;

/** SQL: a notification row `n` claimed by an instance that is gone (heartbeat stopped, or it said goodbye). */
export const CLAIMED_BY_GONE_SQL = CLAIMED_BY_GONE_SQL_FOR('claimed_by');
