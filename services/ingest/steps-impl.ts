import type { AppContext } from '../context.ts';
import type { Db } from '../db/db.ts';
import { mapDecodedObject, runJsCodec } from './codecs/js-codec.ts';
import { type DecodeResult, fail } from './codecs/types.ts';
import { CodecStore } from './codec-store.ts';
import { CounterTracker, levelFromDistance, levelFromPressure } from './derive.ts';
import { QualityFilter } from './quality.ts';
import type { Steps } from './steps.ts';

export async function createSteps(db: Db, _ctx: AppContext): Promise<Steps & { codecs: CodecStore }> {
  const counters = new CounterTracker();
  // Tip counters continue from the last stored value, so a restart neither loses nor doubles rain.
  for (const r of (await db.query<{ device_id: string; count: number }>('select device_id, count from device_counters')).rows) counters.seed(r.device_id, Number(r.count));
  const quality = new QualityFilter();
  const codecs = new CodecStore(db);
  await codecs.load();

  return {
    codecs,
    counter(device, c) {
      const rain = counters.next(device.id, c, device.params);
      const last = counters.lastCount(device.id);
      return { rainMm: rain ?? undefined, state: c.relative || last === undefined ? undefined : { count: last, bits: c.bits } };
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
    quality(device, r) {
      return quality.check(device.id, r.metric, r.time, r.value, device.params);
    },
    jsCodec(device, up): DecodeResult {
      const id = typeof device.params.codec === 'string' ? device.params.codec : undefined;
      const codec = id ? codecs.get(id) : undefined;
      if (!codec) return fail('codec_error', `device '${device.id}' uses js-codec but codec '${id ?? '(params.codec not set)'}' is not uploaded`);
      if (up.fPort === undefined) return fail('wrong_fport', 'uplink has no fPort');
      return runJsCodec(codec.source, { bytes: up.bytes, fPort: up.fPort, recvTime: new Date(up.time) }, { ...codec.fieldMap, ...((device.params.fieldMap as Record<string, string>) ?? {}) });
    },
    mapObject(device, object) {
      const fm = (device.params.fieldMap as Record<string, string> | undefined) ?? {};
      return mapDecodedObject(object, fm);
    },
  };
}
