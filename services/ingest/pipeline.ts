// The path of one uplink as a checklist of small named steps over one context. [docs/architecture.md "The path of one uplink"]
// Every message ends as readings, a rejection with a reason, or a named "stop here" (duplicate, other event).
import { isMetric, METRIC_UNITS, Quality, type Reading } from '../../alerts/types.ts';
import { type Device, type DeviceRegistry, normEui } from '../devices/device-registry.ts';
import { type DecodeResult, decodeBuiltin } from './codecs/index.ts';
import { num } from './derive.ts';
import { EnvelopeError, type EnvelopeKind, type LoraUplink, matchTopic, parseChirpstack, parseNative, parseTts } from './envelopes.ts';
import type { Steps } from './steps.ts';
import type { IngestWork, RawMessage, RejectReason } from './types.ts';

class Stop extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
    readonly deviceId?: string,
  ) {
    super(message);
  }
}

const FUTURE_TOLERANCE_MS = 10 * 60_000;
/** A clock further off the receive time than this is wrong, not late or early: the receive time is used. */
const DEFAULT_SKEW_TOLERANCE_S = 600;

/** Readings re-stamped with the receive time carry CLOCK_SKEW (still evaluated); the device shows the offset. */
function skewed(work: IngestWork, deviceId: string, skewMs: number, receivedAt: number): IngestWork {
  for (const r of work.readings) r.quality |= Quality.CLOCK_SKEW;
  work.clockSkew = { deviceId, seconds: Math.round(skewMs / 1000), at: receivedAt };
  return work;
}

export class IngestPipeline {
  private recentFrames = new Map<string, { fCnt: number; hash: string; at: number }[]>();
  /** per native device: its clock's last offset from the receive time, and the offset found steady */
  private clocks = new Map<string, { lock?: number; off: number; at: number }>();

  constructor(
    private devices: DeviceRegistry,
    private steps: Steps,
  ) {}

  /** Pure apart from the per-device state (counters, quality, duplicate cache): no I/O. Synchronous unless
   *  the uplink waits for a decode in the codec sandbox (a promise then), so the usual uplink costs no promise. */
  process(msg: RawMessage): IngestWork | Promise<IngestWork> {
    try {
      const work = this.run(msg);
      return work instanceof Promise ? work.catch((e: unknown) => this.failed(msg, e)) : work;
    } catch (e) {
      return this.failed(msg, e);
    }
  }

  private failed(msg: RawMessage, e: unknown): IngestWork {
    if (e instanceof Stop) return this.reject(msg, e.reason, e.message, e.deviceId);
    if (e instanceof EnvelopeError) return this.reject(msg, e.reason, e.message);
    return this.reject(msg, 'bad_payload', `unexpected: ${(e as Error).message}`);
  }

  /** Every rejection names the device its topic names, so its municipality and integrator see it. [issue 11] */
  private reject(msg: RawMessage, reason: RejectReason, message: string, deviceId?: string): IngestWork {
    const id = deviceId ?? this.topicDeviceId(msg.topic);
    return {
      readings: [],
      rejections: [{ topic: msg.topic, payload: msg.payload, reason, message, deviceId: id, clientId: msg.clientId, receivedAt: msg.receivedAt }],
    };
  }

  /** The device id a topic names: the native topic's id; the registered device of a devEui or TTS device id. */
  private topicDeviceId(topic: string): string | undefined {
    const m = matchTopic(topic);
    if (!m) return undefined;
    if (m.kind === 'native') return m.ref.slice(0, 200);
    if (m.kind === 'chirpstack') return this.devices.getByEui(m.ref)?.id;
    const eui = /^eui-([0-9a-f]{16})$/i.exec(m.ref)?.[1];
    return this.devices.get(m.ref)?.id ?? (eui ? this.devices.getByEui(eui)?.id : undefined);
  }

  private run(msg: RawMessage): IngestWork | Promise<IngestWork> {
    const m = matchTopic(msg.topic);
    if (!m) throw new Stop('unknown_topic', `topic '${msg.topic.slice(0, 200)}' is none of application/+/device/+/event/up, v3/+/devices/+/up, devices/+/up`);
    if (m.otherEvent) return { readings: [], rejections: [], skipped: `${m.kind} event '${m.otherEvent}' is not an uplink` };
    const body = parseJson(msg.payload);
    if (m.kind === 'native') return this.native(msg, m.ref, body);
    return this.lora(msg, m.kind, m.ref, body);
  }

  private native(msg: RawMessage, ref: string, body: unknown): IngestWork {
    const device = this.devices.get(ref);
    if (!device) throw new Stop('unknown_device', `no device with id '${ref}' is registered`);
    const sets = parseNative(body);
    // A native device stamps its own readings and may send a backlog. A device configured with a tolerance
    // has its clock checked at once: the newest set against the receive time, the whole message shifted.
    // Without one, a clock is judged wrong once two uplinks in a row are off by the same amount. [docs/warning-logic.md]
    const tolerance = num(device.params, 'clockSkewToleranceS');
    const newest = Math.max(...sets.map((s) => s.time ?? msg.receivedAt));
    const skewMs =
      tolerance !== undefined
        ? Math.abs(newest - msg.receivedAt) > tolerance * 1000
          ? newest - msg.receivedAt
          : 0
        : sets.some((s) => s.time !== undefined)
          ? this.steadyOffset(device.id, newest, msg.receivedAt)
          : 0;
    const readings: Reading[] = [];
    for (const s of sets) {
      const time = s.time !== undefined ? s.time - skewMs : msg.receivedAt;
      checkTime(time, msg.receivedAt, device.id);
      const values: Record<string, number> = {};
      for (const [metric, v] of Object.entries(s.readings)) {
        if (!isMetric(metric)) throw new Stop('unknown_metric', `'${metric}' is not a canonical metric (${Object.keys(METRIC_UNITS).join(', ')})`, device.id);
        if (typeof v !== 'number') throw new Stop('bad_payload', `readings.${metric} must be a number, got ${typeof v}`, device.id);
        if (!Number.isFinite(v)) throw new Stop('out_of_range', `readings.${metric} is not finite`, device.id);
        values[metric] = v;
      }
      this.steps.derive(device, values, time);
      for (const [metric, value] of Object.entries(values)) readings.push({ deviceId: device.id, metric, time, value, quality: 0 });
    }
    const work = this.finish(msg, device, readings, undefined, { time: readings[0]?.time ?? msg.receivedAt, deviceId: device.id, source: 'native' });
    // the device view shows the offset as measured now (the correction itself is the steady one)
    return skewMs ? skewed(work, device.id, tolerance !== undefined ? skewMs : newest - msg.receivedAt, msg.receivedAt) : work;
  }

  /**
   * The offset of a native device's clock, once it is wrong and not merely late: off by more than
   * DEFAULT_SKEW_TOLERANCE_S, and by the same amount (its clock advancing as fast as the receive time) as
   * the uplink before, at least a second earlier. A backlog (old readings arriving in a burst, or one late
   * reading) is not steady and keeps its own times. Once found, the offset holds (so a re-delivered
   * message gets the same corrected time and is stored once) while uplinks stay within 2 min of it. It is
   * rounded to whole minutes, so instances that each receive the uplink a few ms apart correct it alike.
   */
  private steadyOffset(deviceId: string, newest: number, receivedAt: number): number {
    const off = newest - receivedAt;
    const st = this.clocks.get(deviceId);
    this.clocks.set(deviceId, { lock: st?.lock, off, at: receivedAt });
    if (Math.abs(off) <= DEFAULT_SKEW_TOLERANCE_S * 1000) {
      this.clocks.set(deviceId, { off, at: receivedAt });
      return 0;
    }
    if (st?.lock !== undefined && Math.abs(off - st.lock) <= 2 * 60_000) return st.lock;
    const dt = receivedAt - (st?.at ?? receivedAt);
    // the device's clock advanced about as far as the receive time did: by at most 2 s + 5 % off, and by less
    // than half the time between them (a stream of old readings, slowed down in transit, is not a clock)
    if (st && dt >= 1000 && Math.abs(off - st.off) <= Math.min(2000 + 0.05 * dt, 0.5 * dt)) {
      const lock = Math.round(off / 60_000) * 60_000;
      this.clocks.set(deviceId, { lock, off, at: receivedAt });
      return lock;
    }
    return 0;
  }

  private lora(msg: RawMessage, kind: Exclude<EnvelopeKind, 'native'>, ref: string, body: unknown): IngestWork | Promise<IngestWork> {
    const up: LoraUplink = kind === 'chirpstack' ? parseChirpstack(body, ref, msg.receivedAt) : parseTts(body, ref, msg.receivedAt);
    this.bindIdentity(kind, ref, up);
    const device = (up.devEui && this.devices.getByEui(up.devEui)) || this.devices.get(up.deviceRef) || (kind === 'tts' ? this.devices.get(ref) : undefined);
    if (!device) throw new Stop('unknown_device', `no device registered for devEui ${up.devEui ?? '?'} / id '${up.deviceRef}'`);
    // `time` may come from a gateway's (or device's) clock; the network server's own receive time decides.
    const tolerance = (num(device.params, 'clockSkewToleranceS') ?? DEFAULT_SKEW_TOLERANCE_S) * 1000;
    const skewMs = up.nsReceivedAt !== undefined && Math.abs(up.time - up.nsReceivedAt) > tolerance ? up.time - up.nsReceivedAt : 0;
    if (skewMs) up.time -= skewMs;
    checkTime(up.time, msg.receivedAt, device.id);
    if (this.isDuplicate(device.id, up)) return { readings: [], rejections: [], skipped: `duplicate frame fCnt ${up.fCnt}` };
    const dec = this.decode(device, up);
    // only a js-codec decode waits (its sandbox thread); a built-in codec or a mapped object finishes here
    return dec instanceof Promise ? dec.then((d) => this.decoded(msg, kind, device, up, d, skewMs)) : this.decoded(msg, kind, device, up, dec, skewMs);
  }

  private decoded(msg: RawMessage, kind: Exclude<EnvelopeKind, 'native'>, device: Device, up: LoraUplink, dec: DecodeResult, skewMs: number): IngestWork {
    if (!dec.ok) throw new Stop(dec.reason, dec.message, device.id);
    const values = { ...dec.values };
    const counter = dec.counter ? this.steps.counter(device, dec.counter, up.time) : undefined;
    if (counter?.rainMm !== undefined) values.rain_mm = counter.rainMm;
    this.steps.derive(device, values, up.time);
    if (up.rssi !== undefined) values.rssi_dbm = up.rssi;
    if (up.snr !== undefined) values.snr_db = up.snr;
    const readings = Object.entries(values).map(([metric, value]) => ({ deviceId: device.id, metric, time: up.time, value, quality: 0 }));
    const work = this.finish(msg, device, readings, counter?.sinceMs, {
      time: up.time,
      deviceId: device.id,
      source: kind,
      fCnt: up.fCnt,
      fPort: up.fPort,
      rssi: up.rssi,
      snr: up.snr,
      gateways: up.gateways,
    });
    if (counter?.state) work.counter = { deviceId: device.id, ...counter.state, time: up.time };
    return skewMs ? skewed(work, device.id, skewMs, up.time) : work;
  }

  /**
   * The topic is what the broker's ACL checked; a body naming another device must not get its readings
   * stored for that one (a gauge's credential spoofing its neighbour) nor for the topic's device. [MQTT ACL]
   */
  private bindIdentity(kind: Exclude<EnvelopeKind, 'native'>, ref: string, up: LoraUplink): void {
    const mismatch = (what: string, topicDevice?: Device) => {
      throw new Stop('identity_mismatch', `the body names ${what}, the topic names '${ref}'; stored for neither`, topicDevice?.id);
    };
    if (kind === 'chirpstack') {
      const topicDevice = this.devices.getByEui(ref) ?? this.devices.get(ref);
      if (up.devEui !== undefined && !sameEui(up.devEui, ref)) mismatch(`devEui ${up.devEui.slice(0, 40)}`, topicDevice);
      return;
    }
    // TTS: the topic names TTS's device id: ours, or TTS's default eui-<devEui>, or a name only TTS knows
    const eui = /^eui-([0-9a-f]{16})$/i.exec(ref)?.[1];
    const topicDevice = this.devices.get(ref) ?? (eui ? this.devices.getByEui(eui) : undefined);
    if (up.deviceRef !== ref) mismatch(`device_id '${up.deviceRef.slice(0, 64)}'`, topicDevice);
    if (up.devEui === undefined) return;
    const named = this.devices.getByEui(up.devEui);
    if (
      (eui && !sameEui(eui, up.devEui)) ||
      (topicDevice && named && topicDevice.id !== named.id) ||
      (topicDevice?.devEui && !sameEui(topicDevice.devEui, up.devEui))
    ) {
      mismatch(`dev_eui ${up.devEui.slice(0, 40)}`, topicDevice);
    }
  }

  private decode(device: Device, up: LoraUplink): DecodeResult | Promise<DecodeResult> {
    if (device.model === 'js-codec') return this.steps.jsCodec(device, up);
    if (device.model === 'generic') {
      if (!up.object)
        return {
          ok: false,
          reason: 'decode_error',
          message: `device '${device.id}' has model generic and the uplink carries no decoded object; choose a built-in model or js-codec`,
        };
      return this.steps.mapObject(device, up.object);
    }
    if (up.fPort === undefined) return { ok: false, reason: 'wrong_fport', message: 'uplink has no fPort (MAC-only frame)' };
    return decodeBuiltin(device.model, { bytes: up.bytes, fPort: up.fPort, params: device.params });
  }

  /** Quality flags on every reading; out-of-range values are also listed as rejected so integrators see them.
   *  `rainSinceMs`: the time a counter-derived rain_mm fell in (since the counter's previous read). */
  private finish(msg: RawMessage, device: Device, readings: Reading[], rainSinceMs: number | undefined, uplink: IngestWork['uplink']): IngestWork {
    const work: IngestWork = { readings, uplink, rejections: [] };
    const bad: string[] = [];
    for (const r of readings) {
      const q = this.steps.quality(device, r, r.metric === 'rain_mm' ? rainSinceMs : undefined);
      r.quality = q.flags;
      if (q.released) (work.released ??= []).push({ deviceId: device.id, metric: r.metric, time: q.released.time, value: q.released.value, quality: 0 });
      if (r.quality & 1) bad.push(`${r.metric}=${r.value}`);
    }
    if (bad.length) {
      work.rejections.push({
        topic: msg.topic,
        payload: msg.payload,
        reason: 'out_of_range',
        message: `implausible values kept flagged, not evaluated: ${bad.join(', ')}`,
        deviceId: device.id,
        clientId: msg.clientId,
        receivedAt: msg.receivedAt,
      });
    }
    return work;
  }

  /** Same device, same frame counter and same bytes within an hour: a network-server or MQTT redelivery. */
  private isDuplicate(deviceId: string, up: LoraUplink): boolean {
    const hash = up.dedupId ?? up.bytes.toString('base64');
    const list = this.recentFrames.get(deviceId) ?? [];
    const now = up.time;
    const dup = list.some((f) => f.fCnt === up.fCnt && f.hash === hash && Math.abs(now - f.at) < 3_600_000);
    if (!dup) {
      list.push({ fCnt: up.fCnt, hash, at: now });
      if (list.length > 16) list.shift();
      this.recentFrames.set(deviceId, list);
    }
    return dup;
  }
}

/** EUIs compare as hex digits (case, `-` and `:` aside); anything else only as the same text. */
function sameEui(a: string, b: string): boolean {
  const hex = (x: string) => (/^[0-9a-f]{16}$/i.test(x.replace(/[-:]/g, '')) ? normEui(x) : undefined);
  const ha = hex(a);
  return ha !== undefined ? ha === hex(b) : a === b;
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch (e) {
    throw new Stop('invalid_json', `payload is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

function checkTime(t: number, receivedAt: number, deviceId: string) {
  if (t > receivedAt + FUTURE_TOLERANCE_MS) throw new Stop('bad_time', `time ${new Date(t).toISOString()} is more than 10 minutes in the future`, deviceId);
  if (t < Date.UTC(2000, 0, 1)) throw new Stop('bad_time', `time ${new Date(t).toISOString()} is before 2000`, deviceId);
}
