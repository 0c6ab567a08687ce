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
  private async handleInOrder(msg: RawMessage): Promise<Outcome> {
    try {
      const prev = this.tails.get(msg.topic);
      // The stored value is a promise of an object holding the write promise, so the chain never waits for a
      // commit (group commit keeps working) and a refused write does not break the chain.
      const next = () => this.enqueue(msg);
      const turn = (prev ? prev.then(next, next) : next()).then((q) => {
        if (this.tails.get(msg.topic) === turn) this.tails.delete(msg.topic);
        return q;
      });
      this.tails.set(msg.topic, turn);
      const { work, written } = await turn;
      if (!written) {
        this.metrics.uplinks.inc({ outcome: 'skipped' });
        this.log.debug({ topic: msg.topic, why: work.skipped }, 'uplink skipped');
        return 'skipped';
      }
      await written;
      const outcome: Outcome = work.rejections.length ? (work.readings.length ? 'partial' : 'rejected') : 'accepted';
      this.metrics.uplinks.inc({ outcome });
      if (outcome === 'rejected')
        this.log.info({ topic: msg.topic.slice(0, 200), reason: work.rejections[0].reason, deviceId: work.rejections[0].deviceId }, 'uplink rejected');
      return outcome;
    } finally {
      this.gate.release();
    }
  }

  private async enqueue(msg: RawMessage): Promise<{ work: IngestWork; written?: Promise<unknown> }> {
    const work = await this.pipeline.process(msg);
    if (work.skipped && !work.rejections.length) return { work };
    const written = this.writer.write(work);
    written.catch(() => {}); // awaited by handle(); this only keeps an early refusal from counting as unhandled
    return { work, written };
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
