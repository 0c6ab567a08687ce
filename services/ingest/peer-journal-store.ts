// Closes the peer feed's gap at a kill -9: the readings of each committed batch are written to
// `peer_journal` in the same statement as the readings themselves, and deleted once the broker confirmed
// (PUBACK) the batch's peer-feed message. What an instance leaves behind when it dies is exactly what its
// peers may not have heard of; each survivor replays it into its own engine once the instance's heartbeat is
// 5 s old. The engine keeps one point per (device, metric, time) and drops a repeat, so a batch that reached
// a survivor both ways is evaluated once. [docs/operations.md Rule evaluation]
import type { Logger } from 'pino';
import type { Reading } from '../../alerts/types.ts';
import type { Db } from '../db/db.ts';
import { CLAIMED_BY_GONE_SQL_FOR, INSTANCE_ID } from '../scheduler/membership.ts';

type Wire = [string, string, number, number, number];

export interface PeerJournal {
  /** who writes the journal rows, and the next batch number (the writer puts both in its statement) */
  readonly instanceId: string;
  nextSeq(): number;
  /** the broker has the peer-feed message of these batches: their rows are no longer needed */
  confirmed(seqs: number[]): void;
  stop(): Promise<void>;
}

/** SQL for the writer: one journal row of the readings a CTE named `from` returned (none when empty). */
export function journalCte(from: string, instance: string, seq: string): string {
  return `insert into peer_journal(instance_id, seq, readings)
    select ${instance}, ${seq}, jsonb_agg(jsonb_build_array(device_id, metric, (extract(epoch from time) * 1000)::float8, value, quality))
    from ${from} having count(*) > 0
    on conflict do nothing`;
}

/** Batch numbers are per process, like INSTANCE_ID: several in-process systems (tests) share both. */
let lastSeq = 0;

export function startPeerJournal(db: Db, replay: (rs: Reading[]) => void, log: Logger, everyMs = 1000): PeerJournal {
  const l = log.child({ component: 'peer-journal' });
  let done: number[] = [];
  const replayed = new Set<string>();
  const gone = CLAIMED_BY_GONE_SQL_FOR('j.instance_id');
  const pass = async () => {
    if (done.length) {
      const seqs = done;
      done = [];
      await db.query('delete from peer_journal where instance_id = $1 and seq = any($2::bigint[])', [INSTANCE_ID, seqs]).catch((e) => {
        done.push(...seqs);
        throw e;
      });
    }
    const r = await db.query<{ instance_id: string; seq: string; readings: Wire[] }>(
      `select instance_id, seq::text, readings from peer_journal j where j.instance_id <> $1 and ${gone} order by committed_at`,
      [INSTANCE_ID],
    );
    const keys = new Set<string>();
    for (const row of r.rows) {
      const k = `${row.instance_id}/${row.seq}`;
      keys.add(k);
      if (replayed.has(k)) continue;
      replayed.add(k);
      const rs = row.readings.map(([deviceId, metric, time, value, quality]) => ({ deviceId, metric, time: Math.round(time), value, quality }));
      l.warn({ instance: row.instance_id, batch: row.seq, readings: rs.length }, 'readings of a departed instance replayed into the rule engine');
      replay(rs);
    }
    for (const k of replayed) if (!keys.has(k)) replayed.delete(k);
    // a departed instance's rows are kept for a while for the survivors that are slower to notice
    await db.query(`delete from peer_journal j where committed_at < now() - interval '2 minutes' and ${gone}`);
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(pass).catch((e) => l.warn({ err: (e as Error).message }, 'peer journal pass failed'));
  }, everyMs);
  timer.unref();
  return {
    instanceId: INSTANCE_ID,
    nextSeq: () => ++lastSeq,
    confirmed(seqs) {
      done.push(...seqs);
    },
    async stop() {
      clearInterval(timer);
      await running;
      await pass().catch(() => {});
    },
  };
}
