import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { InFlightGate } from './in-flight-gate.ts';
import type { IngestPipeline } from './pipeline.ts';
import type { IngestWork, Outcome, RawMessage } from './types.ts';
import type { BatchWriter } from './writer.ts';

/**
 * One uplink in, a promise that settles once it is durably stored (or deliberately skipped).
 * Decoding can wait for the codec sandbox (another thread), so uplinks of one topic — one device — are taken
 * through the pipeline and handed to the writer strictly in arrival order: its counters, quality filters and
 * duplicate cache see them in order, and so does the rule engine after the commit. Different devices do not
 * wait for each other. The writer still resolves each uplink only after its commit. [docs/guarantees.md]
 */
/** Uplinks worked on at once before new ones wait (INGEST_MAX_IN_FLIGHT). Two PostgreSQL batches' worth. */
export const DEFAULT_MAX_IN_FLIGHT = 4096;

export class IngestService {
  /** per topic: settles once the latest uplink of that topic has been processed and queued for writing */
  private tails = new Map<string, Promise<unknown>>();
  private gate: InFlightGate;

  constructor(
    private pipeline: IngestPipeline,
    private writer: BatchWriter,
    private metrics: Metrics,
    private log: Logger,
    opts: { maxInFlight?: number } = {},
  ) {
    this.gate = new InFlightGate(opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  }

  /** uplinks being worked on, and uplinks waiting for a place (backpressure) */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.gate.inFlight, waiting: this.gate.waiting };
  }

  handle(msg: RawMessage): Promise<Outcome> {
    const wait = this.gate.acquire();
    // the common case (a place is free) costs no promise of its own: handleInOrder gives the place back
    return wait ? this.afterWait(wait, msg) : this.handleInOrder(msg);
  }

  private async afterWait(wait: Promise<void>, msg: RawMessage): Promise<Outcome> {
    this.metrics.uplinksWaiting.set(this.gate.waiting);
    await wait;
    this.metrics.uplinksWaiting.set(this.gate.waiting);
    return this.handleInOrder(msg);
  }

  /** Holds one place of the in-flight gate and gives it back when the uplink is stored (or refused). */
  private handleInOrder(msg: RawMessage): Promise<Outcome> {
    const prev = this.tails.get(msg.topic);
    if (prev) return this.chained(prev, msg);
    let work: IngestWork | Promise<IngestWork>;
    try {
      work = this.pipeline.process(msg);
    } catch (e) {
      this.gate.release();
      return Promise.reject(e);
    }
    if (work instanceof Promise) return this.chained(undefined, msg, work);
    // The usual case: nothing of this topic is still being decoded and the pipeline finished synchronously
    // (native JSON, built-in codecs), so the uplink goes to the writer now, in arrival order, without the
    // per-topic chain: a handful of promises per message fewer, which was most of ingest's own garbage.
    const written = this.queue(work);
    if (!written) {
      this.gate.release();
      return Promise.resolve(this.skipped(msg, work));
    }
    return written.then(
      () => {
        this.gate.release();
        return this.outcome(msg, work);
      },
      (e) => {
        this.gate.release();
        throw e;
      },
    );
  }

  /** An uplink decoded asynchronously (js-codec in its sandbox), or one following such an uplink of its topic. */
  private async chained(prev: Promise<unknown> | undefined, msg: RawMessage, started?: Promise<IngestWork>): Promise<Outcome> {
    try {
      // The stored value is a promise of an object holding the write promise, so the chain never waits for a
      // commit (group commit keeps working) and a refused write does not break the chain.
      const next = () => this.enqueue(msg, started);
      const turn = (prev ? prev.then(next, next) : next()).then((q) => {
        if (this.tails.get(msg.topic) === turn) this.tails.delete(msg.topic);
        return q;
      });
      this.tails.set(msg.topic, turn);
      const { work, written } = await turn;
      if (!written) return this.skipped(msg, work);
      await written;
      return this.outcome(msg, work);
    } finally {
      this.gate.release();
    }
  }

  private async enqueue(msg: RawMessage, started?: Promise<IngestWork>): Promise<{ work: IngestWork; written?: Promise<unknown> }> {
    const work = await (started ?? this.pipeline.process(msg));
    const written = this.queue(work);
    written?.catch(() => {}); // awaited by chained(); this only keeps an early refusal from counting as unhandled
    return { work, written };
  }

  /** Hands the uplink to the writer; nothing to write for a deliberate skip (duplicate, other event). */
  private queue(work: IngestWork): Promise<unknown> | undefined {
    if (work.skipped && !work.rejections.length) return undefined;
    return this.writer.write(work);
  }

  private skipped(msg: RawMessage, work: IngestWork): Outcome {
    this.metrics.uplinks.inc({ outcome: 'skipped' });
    this.log.debug({ topic: msg.topic, why: work.skipped }, 'uplink skipped');
    return 'skipped';
  }

  private outcome(msg: RawMessage, work: IngestWork): Outcome {
    const outcome: Outcome = work.rejections.length ? (work.readings.length ? 'partial' : 'rejected') : 'accepted';
    this.metrics.uplinks.inc({ outcome });
    if (outcome === 'rejected')
      this.log.info({ topic: msg.topic.slice(0, 200), reason: work.rejections[0].reason, deviceId: work.rejections[0].deviceId }, 'uplink rejected');
    return outcome;
  }

  /** Readings made by this process itself (DWD warnings, radar nowcasts of virtual devices): stored like an
   *  uplink's, then evaluated by the rule engine after the commit. Resolves with the newly inserted ones. */
  storeReadings(readings: import('../../alerts/types.ts').Reading[]): Promise<import('../../alerts/types.ts').Reading[]> {
    return this.writer.write({ readings, rejections: [] });
  }

  /** A publish refused before parsing (ACL, size) is still recorded with its reason. */
  async refused(msg: RawMessage, reason: 'acl_denied' | 'too_large', message: string): Promise<void> {
    await this.writer.write({
      readings: [],
      rejections: [{ topic: msg.topic, payload: msg.payload, reason, message, clientId: msg.clientId, receivedAt: msg.receivedAt }],
    });
    this.metrics.uplinks.inc({ outcome: 'rejected' });
  }
}
