import { EVALUATED_SQL } from '../../alerts/types.ts';
import type { Db } from '../db/db.ts';
import { deviceCodec, noCodec } from './codec-service.ts';
import { CodecStore } from './codec-store.ts';
import type { CodecSandbox } from './codecs/codec-sandbox.ts';
import { mapDecodedObject, runJsCodec } from './codecs/js-codec.ts';
import { type DecodeResult, fail } from './codecs/types.ts';
import { CounterTracker, levelFromDistance, levelFromPressure } from './derive.ts';
import { QualityFilter, SEEDED_METRICS, type StoredPoint } from './quality.ts';
import type { Steps } from './steps.ts';

/** Readings older than this tell the quality filter nothing: its limits scale with the time since. */
const SEED_WINDOW_MS = 6 * 3_600_000;

export async function createSteps(db: Db, sandbox: CodecSandbox, now: () => number = Date.now): Promise<Steps & { codecs: CodecStore }> {
  const counters = new CounterTracker();
  // Tip counters continue from the last stored value and its time, so a restart neither loses nor doubles
  // rain, and the first rain after it is judged over the real time since that count.
  const stored = await db.query<{ device_id: string; count: number; time: Date | null }>('select device_id, count, time from device_counters');
  for (const r of stored.rows) counters.seed(r.device_id, Number(r.count), r.time ? new Date(r.time).getTime() : undefined);
  const quality = new QualityFilter();
  await seedQuality(db, quality, now() - SEED_WINDOW_MS);
  const codecs = new CodecStore(db);
  await codecs.load();

  return {
    codecs,
    counter(device, c, time) {
      const rain = counters.next(device.id, c, device.params, time);
      const last = counters.lastCount(device.id);
      const sinceMs = c.relative ? undefined : counters.sincePrevious(device.id);
      return { rainMm: rain ?? undefined, state: c.relative || last === undefined ? undefined : { count: last, bits: c.bits }, sinceMs };
    },
    derive(device, values) {
      if (values.level_cm !== undefined) return;
      if (values.distance_mm !== undefined) {
        const l = levelFromDistance(values.distance_mm, device.params);
        if (l !== null) values.level_cm = l;
      } else if (values.pressure_bar !== undefined) {
        values.level_cm = levelFromPressure(values.pressure_bar, device.params);
      }
    },
    quality(device, r, sinceMs) {
      return quality.judge(device.id, r.metric, r.time, r.value, device.params, sinceMs);
    },
    async jsCodec(device, up): Promise<DecodeResult> {
      const codec = deviceCodec(codecs, device);
      if (!codec) return noCodec(device);
      if (up.fPort === undefined) return fail('wrong_fport', 'uplink has no fPort');
      return runJsCodec(sandbox, codec.source, { bytes: up.bytes, fPort: up.fPort, recvTime: new Date(up.time) }, codec.fieldMap);
    },
    mapObject(device, object) {
      const fm = (device.params.fieldMap as Record<string, string> | undefined) ?? {};
      return mapDecodedObject(object, fm);
    },
  };
}

/** Per-device quality history as it was before the restart: the last two good readings of each judged
 *  series, a spike still on hold, and the time of the latest rain. */
async function seedQuality(db: Db, quality: QualityFilter, since: number): Promise<void> {
  const r = await db.query<{ device_id: string; metric: string; time: Date; value: number; quality: number }>(
    `select device_id, metric, time, value, quality from (
       select device_id, metric, time, value, quality,
              row_number() over (partition by device_id, metric, ${EVALUATED_SQL} order by time desc) as k
       from readings where metric = any($1::text[]) and time > $2) x
     where k <= 2`,
    [SEEDED_METRICS, new Date(since)],
  );
  const bySeries = new Map<string, { deviceId: string; metric: string; points: StoredPoint[] }>();
  for (const row of r.rows) {
    const key = `${row.device_id}\u0000${row.metric}`;
    const s = bySeries.get(key) ?? { deviceId: row.device_id, metric: row.metric, points: [] };
    s.points.push({ time: new Date(row.time).getTime(), value: row.value, quality: row.quality });
    bySeries.set(key, s);
  }
  for (const s of bySeries.values()) quality.seedSeries(s.deviceId, s.metric, s.points);
}
