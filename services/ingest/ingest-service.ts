import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import type { IngestPipeline } from './pipeline.ts';
import type { Outcome, RawMessage } from './types.ts';
import type { BatchWriter } from './writer.ts';

/** One uplink in, a promise that settles once it is durably stored (or deliberately skipped). */
export class IngestService {
  constructor(
    private pipeline: IngestPipeline,
    private writer: BatchWriter,
    private metrics: Metrics,
    private log: Logger,
  ) {}

  async handle(msg: RawMessage): Promise<Outcome> {
    const work = await this.pipeline.process(msg);
    if (work.skipped && !work.rejections.length) {
      this.metrics.uplinks.inc({ outcome: 'skipped' });
      this.log.debug({ topic: msg.topic, why: work.skipped }, 'uplink skipped');
      return 'skipped';
    }
    await this.writer.write(work);
    const outcome: Outcome = work.rejections.length ? (work.readings.length ? 'partial' : 'rejected') : 'accepted';
    this.metrics.uplinks.inc({ outcome });
    if (outcome === 'rejected') this.log.info({ topic: msg.topic.slice(0, 200), reason: work.rejections[0].reason, deviceId: work.rejections[0].deviceId }, 'uplink rejected');
    return outcome;
  }

  /** A publish refused before parsing (ACL, size) is still recorded with its reason. */
  async refused(msg: RawMessage, reason: 'acl_denied' | 'too_large', message: string): Promise<void> {
    await this.writer.write({ readings: [], rejections: [{ topic: msg.topic, payload: msg.payload, reason, message, clientId: msg.clientId, receivedAt: msg.receivedAt }] });
    this.metrics.uplinks.inc({ outcome: 'rejected' });
  }
}
