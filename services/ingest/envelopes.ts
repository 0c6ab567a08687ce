// Network-server envelopes → one normalised uplink. [docs/topics.md] [docs/reference/lorawan.md 1, 2, 5]
// Protobuf-JSON omits default values: an absent fCnt is 0, an absent object is "no codec".

export type EnvelopeKind = 'chirpstack' | 'tts' | 'native';

export interface TopicMatch {
  kind: EnvelopeKind;
  /** devEui (ChirpStack), TTS device id, or our device id (native) */
  ref: string;
  /** a ChirpStack event other than `up` (status, join, log …): acknowledged, not an uplink */
  otherEvent?: string;
}

export function matchTopic(topic: string): TopicMatch | null {
  const p = topic.split('/');
  if (p[0] === 'application' && p.length === 6 && p[2] === 'device' && p[4] === 'event') {
    return p[5] === 'up' ? { kind: 'chirpstack', ref: p[3] } : { kind: 'chirpstack', ref: p[3], otherEvent: p[5] };
  }
  if (p[0] === 'v3' && p.length === 5 && p[2] === 'devices') {
    return p[4] === 'up' ? { kind: 'tts', ref: p[3] } : { kind: 'tts', ref: p[3], otherEvent: p[4] };
  }
  if (p[0] === 'devices' && p.length === 3 && p[2] === 'up' && p[1]) return { kind: 'native', ref: p[1] };
  return null;
}

export interface LoraUplink {
  kind: 'chirpstack' | 'tts';
  devEui?: string;
  deviceRef: string;
  time: number;
  fCnt: number;
  fPort?: number;
  bytes: Buffer;
  object?: Record<string, unknown>;
  rssi?: number;
  snr?: number;
  gateways: { id: string; rssi?: number; snr?: number }[];
  dedupId?: string;
  /** when the network server received the frame, where the envelope says so apart from `time` */
  nsReceivedAt?: number;
}

export interface NativeSet {
  time?: number;
  readings: Record<string, unknown>;
}

export class EnvelopeError extends Error {
  constructor(
    readonly reason: 'bad_envelope' | 'bad_payload' | 'bad_time',
    message: string,
  ) {
    super(message);
  }
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
export function decodeBase64(s: unknown, field: string): Buffer {
  if (s === undefined || s === null || s === '') return Buffer.alloc(0);
  if (typeof s !== 'string' || s.length % 4 !== 0 || !B64.test(s)) throw new EnvelopeError('bad_envelope', `${field} is not valid base64`);
  return Buffer.from(s, 'base64');
}

/** A date and time of day with its UTC offset; nothing else says which instant is meant. */
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;

export function parseTime(v: unknown, field: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new EnvelopeError('bad_time', `${field} must be an ISO-8601 string`);
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new EnvelopeError('bad_time', `${field} '${v.slice(0, 40)}' is not an ISO-8601 time`);
  // Without an offset the instant depends on the server's zone (and is ambiguous on the autumn DST night).
  if (!WITH_OFFSET.test(v.trim()))
    throw new EnvelopeError('bad_time', `${field} '${v.slice(0, 40)}' has no UTC offset; send e.g. 2025-07-01T14:05:00Z or …+02:00`);
  return t;
}

/** The latest network-server receive time among the gateways' rxInfo (ChirpStack v4 `nsTime`), if any. */
function nsReceiveTime(rx: Record<string, unknown>[]): number | undefined {
  let best: number | undefined;
  for (const g of rx) {
    if (typeof g.nsTime !== 'string') continue;
    const t = Date.parse(g.nsTime);
    if (Number.isFinite(t) && (best === undefined || t > best)) best = t;
  }
  return best;
}

const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function bestGateway(gws: { rssi?: number; snr?: number }[]) {
  let best: { rssi?: number; snr?: number } | undefined;
  for (const g of gws) if (g.rssi !== undefined && (best?.rssi === undefined || g.rssi > best.rssi)) best = g;
  return best;
}

export function parseChirpstack(body: unknown, topicEui: string, receivedAt: number): LoraUplink {
  if (!obj(body)) throw new EnvelopeError('bad_envelope', 'ChirpStack uplink must be a JSON object');
  const info = obj(body.deviceInfo) ? body.deviceInfo : {};
  const devEui = typeof info.devEui === 'string' ? info.devEui : topicEui;
  if (typeof body.fCnt !== 'undefined' && num(body.fCnt) === undefined) throw new EnvelopeError('bad_envelope', 'fCnt must be a number');
  const rx = Array.isArray(body.rxInfo) ? body.rxInfo.filter(obj) : [];
  const gateways = rx.map((g) => ({ id: String(g.gatewayId ?? ''), rssi: num(g.rssi), snr: num(g.snr) }));
  const best = bestGateway(gateways);
  return {
    kind: 'chirpstack',
    devEui,
    deviceRef: devEui,
    time: parseTime(body.time, 'time', receivedAt),
    fCnt: num(body.fCnt) ?? 0,
    fPort: num(body.fPort),
    bytes: decodeBase64(body.data, 'data'),
    object: obj(body.object) ? body.object : undefined,
    rssi: best?.rssi,
    snr: best?.snr,
    gateways,
    dedupId: typeof body.deduplicationId === 'string' ? body.deduplicationId : undefined,
    nsReceivedAt: nsReceiveTime(rx),
  };
}

export function parseTts(body: unknown, topicDeviceId: string, receivedAt: number): LoraUplink {
  if (!obj(body)) throw new EnvelopeError('bad_envelope', 'TTS uplink must be a JSON object');
  const ids = obj(body.end_device_ids) ? body.end_device_ids : {};
  const up = body.uplink_message;
  if (!obj(up)) throw new EnvelopeError('bad_envelope', 'uplink_message missing');
  const rx = Array.isArray(up.rx_metadata) ? up.rx_metadata.filter(obj) : [];
  const gateways = rx.map((g) => ({ id: String((obj(g.gateway_ids) && g.gateway_ids.gateway_id) || ''), rssi: num(g.rssi), snr: num(g.snr) }));
  const best = bestGateway(gateways);
  const time = parseTime(up.received_at ?? body.received_at, 'received_at', receivedAt);
  return {
    kind: 'tts',
    devEui: typeof ids.dev_eui === 'string' ? ids.dev_eui : undefined,
    deviceRef: typeof ids.device_id === 'string' ? ids.device_id : topicDeviceId,
    time,
    fCnt: num(up.f_cnt) ?? 0,
    fPort: num(up.f_port),
    bytes: decodeBase64(up.frm_payload, 'uplink_message.frm_payload'),
    object: obj(up.decoded_payload) ? up.decoded_payload : undefined,
    rssi: best?.rssi,
    snr: best?.snr,
    gateways,
  };
}

/** `{"time"?, "readings":{…}}` or an array of those. [docs/topics.md] */
export function parseNative(body: unknown): NativeSet[] {
  const sets = Array.isArray(body) ? body : [body];
  if (sets.length === 0) throw new EnvelopeError('bad_payload', 'empty array');
  if (sets.length > 10_000) throw new EnvelopeError('bad_payload', 'more than 10000 reading sets in one message');
  return sets.map((s, i) => {
    const at = Array.isArray(body) ? `[${i}].` : '';
    if (!obj(s)) throw new EnvelopeError('bad_payload', `${at}body must be an object {"time","readings"}`);
    if (!obj(s.readings)) throw new EnvelopeError('bad_payload', `${at}readings must be an object of metric → number`);
    return { time: s.time === undefined ? undefined : parseTime(s.time, `${at}time`, 0), readings: s.readings };
  });
}
