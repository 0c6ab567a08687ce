// Group-commit batch writer: one transaction per batch, flushed at once when idle, accumulating while a
// flush is in flight. Callers' promises resolve only after COMMIT, so "acknowledged means stored". [docs/guarantees.md]
import type { Logger } from 'pino';
import type { Reading } from '../../alerts/types.ts';
import { type Db, isConnectionError, type Queryable } from '../db/db.ts';
import type { Metrics } from '../metrics.ts';
import { journalCte, type PeerJournal } from './peer-journal-store.ts';
import type { IngestWork, Rejection } from './types.ts';

interface Pending {
  work: IngestWork;
  resolve: (inserted: Reading[]) => void;
  reject: (e: Error) => void;
}

export class OverloadedError extends Error {}

export interface WriterOptions {
  maxBatch?: number;
  /** items allowed to wait while the database is down; beyond that, new work is refused (not acknowledged) */
  maxQueued?: number;
  retryMaxMs?: number;
  /** called with the newly inserted readings (duplicates excluded), in commit order: the next hop of an uplink;
   *  `journal` names the peer-journal rows written with them */
  onCommitted?: (readings: Reading[], journal: number[]) => void;
  /** with peers: each batch's readings also go to `peer_journal`, in the same statement [peer-journal-store.ts] */
  journal?: Pick<PeerJournal, 'instanceId' | 'nextSeq'>;
  /** called with the devices of rejected uplinks once their rejections are stored (the console's live view) */
  onRejected?: (deviceIds: string[]) => void;
}

const MAX_STORED_PAYLOAD = 64 * 1024;

export class BatchWriter {
  private queue: Pending[] = [];
  private flushing = false;
  private closed = false;
  private retryMs = 0;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly yieldBeforeBatch: boolean;
  private readonly onCommitted: (readings: Reading[], journal: number[]) => void;
  private readonly journal?: Pick<PeerJournal, 'instanceId' | 'nextSeq'>;
  private readonly onRejected: (deviceIds: string[]) => void;
  /** PostgreSQL: the batch's arrays go as array literals built here (pgArray); PGlite takes JS arrays */
  private readonly pgArrays: boolean;
  dbHealthy = true;

  constructor(
    private db: Db,
    private log: Logger,
    private metrics: Metrics,
    opts: WriterOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? (db.kind === 'pglite' ? 500 : 2000);
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.onCommitted = opts.onCommitted ?? (() => {});
    this.onRejected = opts.onRejected ?? (() => {});
    this.journal = opts.journal;
    this.yieldBeforeBatch = db.kind === 'pglite';
    this.pgArrays = db.kind === 'pg';
  }

  get pending(): number {
    return this.queue.length;
  }

  write(work: IngestWork): Promise<Reading[]> {
    if (this.closed) return Promise.reject(new OverloadedError('writer closed'));
    if (this.queue.length >= this.maxQueued) return Promise.reject(new OverloadedError(`${this.queue.length} uplinks waiting for the database`));
    return new Promise((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      this.metrics.pendingUplinks.set(this.queue.length);
      if (!this.flushing) queueMicrotask(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        // The embedded database runs synchronously on this thread: while it commits, no socket is read, so
        // without a turn of the event loop every batch would hold just the last message or two. One
        // setImmediate lets the pending network reads in and the batch fill (group commit).
        if (this.yieldBeforeBatch && this.queue.length < this.maxBatch) await new Promise((r) => setImmediate(r));
        const batch = this.queue.slice(0, this.maxBatch);
        const t0 = performance.now();
        try {
          const { inserted, journal } = await this.commit(batch.map((p) => p.work));
          this.queue.splice(0, batch.length);
          this.metrics.pendingUplinks.set(this.queue.length);
          this.metrics.batchSeconds.observe((performance.now() - t0) / 1000);
          if (!this.dbHealthy) this.log.info({ pending: this.queue.length }, 'database reachable again, ingestion catching up');
          this.dbHealthy = true;
          this.retryMs = 0;
          this.settle(batch, inserted, journal);
        } catch (e) {
          if (isConnectionError(e) || this.closed) {
            // Keep the batch and keep trying: nothing is acknowledged until it is stored.
            if (this.dbHealthy) this.log.error({ err: (e as Error).message, pending: this.queue.length }, 'database unreachable, holding acknowledgements');
            this.dbHealthy = false;
            if (this.closed) {
              for (const p of this.queue.splice(0)) p.reject(new OverloadedError('shutting down before the database came back'));
              return;
            }
            this.retryMs = Math.min(5000, Math.max(100, this.retryMs * 2));
            await new Promise((r) => setTimeout(r, this.retryMs));
            continue;
          }
          // A non-connection failure is specific to some item: isolate it so the rest still land.
          this.queue.splice(0, batch.length);
          await this.commitOneByOne(batch, e as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private settle(batch: Pending[], inserted: Map<number, Reading[]>, journal: number[]) {
    const all: Reading[] = [];
    batch.forEach((p, i) => {
      const ins = inserted.get(i) ?? [];
      for (const r of ins) all.push(r);
      p.resolve(ins);
    });
    if (all.length) {
      this.metrics.readings.inc(all.length);
      try {
        this.onCommitted(all, journal);
      } catch (e) {
        this.log.error({ err: e }, 'post-commit handler failed');
      }
    }
  }

  private async commitOneByOne(batch: Pending[], cause: Error) {
    this.log.warn({ err: cause.message, items: batch.length }, 'batch failed, retrying items one by one');
    for (const p of batch) {
      try {
        const c = await this.commit([p.work]);
        this.settle([p], c.inserted, c.journal);
      } catch (e) {
        const w = p.work;
        const topic = w.rejections[0]?.topic ?? `devices/${w.readings[0]?.deviceId ?? '?'}/up`;
        const rej: IngestWork = {
          readings: [],
          rejections: [
            {
              topic,
              payload: Buffer.from(JSON.stringify(w.readings.slice(0, 50))),
              reason: 'store_error',
              message: (e as Error).message,
              receivedAt: Date.now(),
            },
          ],
        };
        try {
          await this.commit([rej]);
          p.resolve([]);
        } catch (e2) {
          p.reject(e2 as Error);
        }
      }
    }
  }

  /** One atomic unit: readings (unnest, ON CONFLICT DO NOTHING), uplink metadata, rejections, counters.
   *  The common batch (readings + uplinks only) is ONE statement — data-modifying CTEs commit together in
   *  autocommit — so a batch costs one round trip instead of five (BEGIN, 2 inserts, COMMIT, pool checkout).
   *  The statement returns the inserted count first and the inserted keys only when some were duplicates,
   *  so the usual case parses no rows at all. Times travel as epoch milliseconds (no Date formatting). */
  private async commit(works: IngestWork[]): Promise<{ inserted: Map<number, Reading[]>; journal: number[] }> {
    const t: number[] = [];
    const dev: string[] = [];
    const met: string[] = [];
    const val: number[] = [];
    const q: number[] = [];
    for (const w of works) {
      for (const r of w.readings) {
        t.push(r.time);
        dev.push(r.deviceId);
        met.push(r.metric);
        val.push(r.value);
        q.push(r.quality);
      }
    }
    const ups = works.map((w) => w.uplink).filter((u) => u !== undefined);
    const rejections = works.flatMap((w) => w.rejections);
    const hasCounters = works.some((w) => w.counter);
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(this.pgArrays && Array.isArray(v) ? pgArray(v) : v)}`;
    const ctes: string[] = [];
    if (t.length) {
      ctes.push(`ins as (insert into readings(time, device_id, metric, value, quality)
        select to_timestamp(t / 1000), d, m, v, q from unnest(${p(t)}::float8[], ${p(dev)}::text[], ${p(met)}::text[], ${p(val)}::float8[], ${p(q)}::int2[]) as s(t, d, m, v, q)
        on conflict do nothing returning time, device_id, metric, value, quality)`);
    }
    const journal: number[] = [];
    if (t.length && this.journal) {
      journal.push(this.journal.nextSeq());
      ctes.push(`jr as (${journalCte('ins', p(this.journal.instanceId), p(journal[0]))})`);
    }
    if (ups.length) {
      ctes.push(`up as (insert into uplinks(time, device_id, source, f_cnt, f_port, rssi, snr, gateways)
        select to_timestamp(t / 1000), d, s, f, fp, r, n, g from unnest(${p(ups.map((u) => u.time))}::float8[], ${p(ups.map((u) => u.deviceId))}::text[], ${p(ups.map((u) => u.source))}::text[],
          ${p(ups.map((u) => u.fCnt ?? null))}::int8[], ${p(ups.map((u) => u.fPort ?? null))}::int4[], ${p(ups.map((u) => u.rssi ?? null))}::float8[], ${p(ups.map((u) => u.snr ?? null))}::float8[],
          ${p(ups.map((u) => (u.gateways ? JSON.stringify(u.gateways, (_k, v) => (typeof v === 'string' ? storableText(v) : v)) : null)))}::jsonb[]) as x(t, d, s, f, fp, r, n, g)
        on conflict do nothing)`);
    }
    const inserted = new Map<number, Reading[]>();
    const run = async (qy: Queryable) => {
      if (!ctes.length) return;
      const final = t.length
        ? `, c as (select count(*)::int as n from ins)
           select n, null::text as d, null::text as m, null::float8 as t from c
           union all select null, device_id, metric, (extract(epoch from time) * 1000)::float8 from ins where (select n from c) < ${p(t.length)}`
        : ' select 0 as n';
      const r = await qy.query<{ n: number | null; d: string | null; m: string | null; t: number | null }>(`with ${ctes.join(', ')}${final}`, params);
      if (!t.length) return;
      if (r.rows[0].n === t.length) {
        works.forEach((w, i) => {
          if (w.readings.length) inserted.set(i, w.readings);
        });
        return;
      }
      // some were duplicates: hand on only the rows this batch really inserted
      const owner = new Map<string, number>();
      works.forEach((w, i) => {
        for (const rd of w.readings) owner.set(`${rd.deviceId}\u0000${rd.metric}\u0000${rd.time}`, i);
      });
      const byKey = new Map<string, Reading>();
      for (const w of works) for (const rd of w.readings) byKey.set(`${rd.deviceId}\u0000${rd.metric}\u0000${rd.time}`, rd);
      for (const row of r.rows.slice(1)) {
        const key = `${row.d}\u0000${row.m}\u0000${Math.round(row.t ?? 0)}`;
        const rd = byKey.get(key);
        if (!rd) continue;
        const i = owner.get(key) ?? 0;
        const list = inserted.get(i) ?? [];
        list.push(rd);
        inserted.set(i, list);
      }
    };
    const hasReleased = works.some((w) => w.released?.length);
    const skews = works.flatMap((w) => (w.clockSkew ? [w.clockSkew] : []));
    if (!rejections.length && !hasCounters && !hasReleased && !skews.length) {
      await run(this.db);
      return { inserted, journal };
    }
    await this.db.transaction(async (tx) => {
      await run(tx);
      await this.writeRejections(tx, rejections);
      await this.writeCounters(tx, works);
      if (hasReleased) await this.writeReleased(tx, works, inserted, journal);
      if (skews.length) await this.writeClockSkews(tx, skews);
    });
    const rejectedDevices = [...new Set(rejections.flatMap((r) => (r.deviceId === undefined ? [] : [r.deviceId])))];
    if (rejectedDevices.length) {
      try {
        this.onRejected(rejectedDevices);
      } catch (e) {
        this.log.error({ err: e }, 'post-commit rejection handler failed');
      }
    }
    return { inserted, journal };
  }

  /** The latest clock offset per device, for the device view. */
  private async writeClockSkews(tx: Queryable, skews: NonNullable<IngestWork['clockSkew']>[]) {
    const latest = new Map(skews.map((s) => [s.deviceId, s]));
    const cs = [...latest.values()];
    await tx.query(
      `insert into device_health(device_id, clock_skew_s, clock_skew_at)
       select * from unnest($1::text[], $2::float8[], $3::timestamptz[])
       on conflict (device_id) do update set clock_skew_s = excluded.clock_skew_s, clock_skew_at = excluded.clock_skew_at`,
      [cs.map((c) => c.deviceId), cs.map((c) => c.seconds), cs.map((c) => new Date(c.at))],
    );
  }

  /** A held spike the next reading confirmed becomes a good reading, and is evaluated before that reading. */
  private async writeReleased(tx: Queryable, works: IngestWork[], inserted: Map<number, Reading[]>, journal: number[]) {
    const rs = works.flatMap((w, i) => (w.released ?? []).map((r) => ({ r, i })));
    const done = await tx.query<{ device_id: string; metric: string; t: number }>(
      `insert into readings(time, device_id, metric, value, quality)
       select to_timestamp(t / 1000), d, m, v, 0 from unnest($1::float8[], $2::text[], $3::text[], $4::float8[]) as s(t, d, m, v)
       on conflict (device_id, metric, time) do update set quality = 0 where readings.quality <> 0
       returning device_id, metric, (extract(epoch from time) * 1000)::float8 as t`,
      [rs.map((x) => x.r.time), rs.map((x) => x.r.deviceId), rs.map((x) => x.r.metric), rs.map((x) => x.r.value)],
    );
    if (this.journal && done.rows.length) {
      const seq = this.journal.nextSeq();
      journal.push(seq);
      await tx.query(
        `with ins as (select to_timestamp(t / 1000) as time, d as device_id, m as metric, v as value, 0::int2 as quality
                      from unnest($3::float8[], $4::text[], $5::text[], $6::float8[]) as s(t, d, m, v)) ${journalCte('ins', '$1', '$2')}`,
        [
          this.journal.instanceId,
          seq,
          done.rows.map((x) => x.t),
          done.rows.map((x) => x.device_id),
          done.rows.map((x) => x.metric),
          done.rows.map((x) => rs.find((y) => y.r.deviceId === x.device_id && y.r.metric === x.metric && y.r.time === Math.round(x.t))?.r.value ?? 0),
        ],
      );
    }
    const changed = new Set(done.rows.map((row) => `${row.device_id}\u0000${row.metric}\u0000${Math.round(row.t)}`));
    for (const { r, i } of rs.reverse()) {
      if (changed.has(`${r.deviceId}\u0000${r.metric}\u0000${r.time}`)) inserted.set(i, [r, ...(inserted.get(i) ?? [])]);
    }
  }

  private async writeRejections(tx: Queryable, rs: Rejection[]) {
    if (!rs.length) return;
    const enc = rs.map((r) => storedPayload(r.payload));
    await tx.query(
      // stamped with the org of the device at this moment: the rejection stays that municipality's [issue 11]
      `insert into rejected_uplinks(received_at, topic, payload, payload_encoding, payload_bytes, reason, message, device_id, client_id, org)
       select r.*, (select d.org from devices d where d.id = r.device_id)
       from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::text[], $7::text[], $8::text[], $9::text[])
         as r(received_at, topic, payload, payload_encoding, payload_bytes, reason, message, device_id, client_id)`,
      [
        rs.map((r) => new Date(r.receivedAt)),
        rs.map((r) => storableText(r.topic)),
        enc.map((e) => e.text),
        enc.map((e) => e.encoding),
        rs.map((r) => r.payload.length),
        rs.map((r) => r.reason),
        rs.map((r) => storableText(r.message.slice(0, 1000))),
        rs.map((r) => (r.deviceId === undefined ? null : storableText(r.deviceId))),
        rs.map((r) => (r.clientId === undefined ? null : storableText(r.clientId))),
      ],
    );
    for (const r of rs) this.metrics.rejected.inc({ reason: r.reason });
  }

  private async writeCounters(tx: Queryable, works: IngestWork[]) {
    const latest = new Map<string, NonNullable<IngestWork['counter']>>();
    for (const w of works) if (w.counter) latest.set(w.counter.deviceId, w.counter);
    if (!latest.size) return;
    const cs = [...latest.values()];
    await tx.query(
      `insert into device_counters(device_id, count, bits, time)
       select * from unnest($1::text[], $2::int8[], $3::int4[], $4::timestamptz[])
       on conflict (device_id) do update set count = excluded.count, bits = excluded.bits, time = excluded.time
       where device_counters.time <= excluded.time`,
      [cs.map((c) => c.deviceId), cs.map((c) => c.count), cs.map((c) => c.bits), cs.map((c) => new Date(c.time))],
    );
  }

  /** Stops taking work; waits (bounded) for what is queued to be stored. */
  async close(timeoutMs = 10_000): Promise<void> {
    const t0 = Date.now();
    while ((this.queue.length || this.flushing) && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new OverloadedError('shutting down'));
  }
}

/**
 * A PostgreSQL array literal of numbers, text and nulls, for the batch statement's unnest() parameters. pg
 * would build the same text but quote and regex-escape every element, numbers included, which cost more than
 * the rest of the writer per message; here numbers go as they print and text is escaped only when it holds a
 * backslash or a double quote.
 */
export function pgArray(xs: readonly unknown[]): string {
  let s = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i) s += ',';
    const x = xs[i];
    if (x === null || x === undefined) s += 'NULL';
    else if (typeof x === 'number') s += String(x);
    else {
      const t = String(x);
      s += t.includes('\\') || t.includes('"') ? `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${t}"`;
    }
  }
  return `${s}}`;
}

/** Text payloads are kept as text, binary as base64, both capped so one huge message cannot fill the disk. */
/**
 * PostgreSQL text cannot hold NUL: a message quoting a payload's NUL (a metric name, a codec's error) is stored
 * with it escaped, so the rejection is kept as what it is and never turns into a store_error. [issue 11]
 */
export const storableText = (s: string): string => s.replace(/\u0000/g, '\\u0000');

function storedPayload(b: Buffer): { text: string; encoding: string } {
  const slice = b.subarray(0, MAX_STORED_PAYLOAD);
  const s = slice.toString('utf8');
  if (!s.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(s)) return { text: s, encoding: b.length > MAX_STORED_PAYLOAD ? 'utf8-truncated' : 'utf8' };
  return { text: slice.toString('base64'), encoding: b.length > MAX_STORED_PAYLOAD ? 'base64-truncated' : 'base64' };
}
