import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { IngestService } from './ingest-service.ts';
import type { IngestPipeline } from './pipeline.ts';
import type { IngestWork, RawMessage } from './types.ts';
import type { BatchWriter } from './writer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean) {
  for (let i = 0; i < 1000 && !cond(); i++) await sleep(5);
}

/** A pipeline whose decode takes as long as the payload says (a codec in another thread), and a writer that logs. */
function rig(maxInFlight?: number) {
  const processed: string[] = [];
  const written: string[] = [];
  const commits: Array<() => void> = [];
  const pipeline = {
    // ms 0: decoded at once (native JSON, a built-in codec), without a promise, as the real pipeline does
    process(msg: RawMessage): IngestWork | Promise<IngestWork> {
      const { id, ms } = JSON.parse(msg.payload.toString());
      const work = (): IngestWork => {
        processed.push(id);
        return { readings: [{ deviceId: msg.topic, metric: 'x_id', time: 0, value: 0, quality: 0 }], rejections: [] };
      };
      return ms === 0 ? work() : sleep(ms).then(work);
    },
  } as unknown as IngestPipeline;
  const writer = {
    write() {
      written.push(processed[processed.length - 1]);
      return new Promise<void>((r) => commits.push(r));
    },
  } as unknown as BatchWriter;
  const svc = new IngestService(pipeline, writer, createMetrics(), pino({ level: 'silent' }), { maxInFlight });
  const send = (topic: string, id: string, ms: number) =>
    svc.handle({ topic, payload: Buffer.from(JSON.stringify({ id, ms })), source: 'broker', receivedAt: Date.now() });
  const commitAll = () => {
    for (const c of commits.splice(0)) c();
  };
  return { processed, written, send, commitAll, svc };
}

describe('IngestService ordering with asynchronous decoding', () => {
  it("takes one device's uplinks through the pipeline and to the writer in arrival order, even when a later decode is faster", async () => {
    const r = rig();
    const outcomes = [r.send('devices/a/up', 'a1', 60), r.send('devices/a/up', 'a2', 1), r.send('devices/a/up', 'a3', 20)];
    await until(() => r.written.length === 3);
    expect(r.processed).toEqual(['a1', 'a2', 'a3']);
    expect(r.written).toEqual(['a1', 'a2', 'a3']);
    r.commitAll();
    expect(await Promise.all(outcomes)).toEqual(['accepted', 'accepted', 'accepted']);
  });

  it('keeps the order when uplinks decoded at once follow one of the same device still being decoded', async () => {
    const r = rig();
    const outcomes = [r.send('devices/a/up', 'a1', 40), r.send('devices/a/up', 'a2', 0), r.send('devices/b/up', 'b1', 0), r.send('devices/a/up', 'a3', 0)];
    await until(() => r.written.length === 4);
    expect(r.written).toEqual(['b1', 'a1', 'a2', 'a3']);
    r.commitAll();
    expect(await Promise.all(outcomes)).toEqual(Array(4).fill('accepted'));
    // the next uplink of a, with nothing of a left in decoding, is written at once
    const a4 = r.send('devices/a/up', 'a4', 0);
    expect(r.written.at(-1)).toBe('a4');
    r.commitAll();
    expect(await a4).toBe('accepted');
    expect(r.svc.load).toEqual({ inFlight: 0, waiting: 0 });
  });

  it('does not make other devices wait for a slow decode', async () => {
    const r = rig();
    const slow = r.send('devices/a/up', 'slow', 1000);
    const fast = r.send('devices/b/up', 'fast', 1);
    await until(() => r.written.length === 1);
    expect(r.processed).toEqual(['fast']);
    r.commitAll();
    await fast;
    await until(() => r.written.length === 2);
    r.commitAll();
    await slow;
    expect(r.processed).toEqual(['fast', 'slow']);
  });

  it('acknowledges only after the commit: handle() settles when the writer does', async () => {
    const r = rig();
    let settled = false;
    const p = r.send('devices/a/up', 'a1', 1).then(() => (settled = true));
    await until(() => r.written.length === 1);
    await sleep(20);
    expect(r.written).toEqual(['a1']);
    expect(settled).toBe(false);
    r.commitAll();
    await p;
    expect(settled).toBe(true);
  });
});

describe('IngestService backpressure (INGEST_MAX_IN_FLIGHT)', () => {
  it('works on at most the limit at once; the rest wait untouched until commits free places, then all are stored', async () => {
    const r = rig(2);
    const outcomes = ['a', 'b', 'c', 'd', 'e'].map((d) => r.send(`devices/${d}/up`, d, 1));
    await until(() => r.written.length === 2);
    await sleep(30);
    // the broker has not been answered for c, d, e: aedes reads nothing more from those connections
    expect(r.processed).toEqual(['a', 'b']);
    expect(r.svc.load).toEqual({ inFlight: 2, waiting: 3 });
    r.commitAll();
    await until(() => r.written.length === 4);
    expect(r.processed).toEqual(['a', 'b', 'c', 'd']);
    r.commitAll();
    await until(() => r.written.length === 5);
    r.commitAll();
    expect(await Promise.all(outcomes)).toEqual(Array(5).fill('accepted'));
    expect(r.svc.load).toEqual({ inFlight: 0, waiting: 0 });
  });

  it("keeps one device's order across the wait, and a later device never overtakes a waiting one", async () => {
    const r = rig(1);
    const outcomes = [r.send('devices/a/up', 'a1', 5), r.send('devices/b/up', 'b1', 1), r.send('devices/a/up', 'a2', 1), r.send('devices/a/up', 'a3', 1)];
    for (let n = 1; n <= 4; n++) {
      await until(() => r.written.length === n);
      r.commitAll();
    }
    expect(await Promise.all(outcomes)).toEqual(Array(4).fill('accepted'));
    expect(r.processed).toEqual(['a1', 'b1', 'a2', 'a3']);
  });
});
