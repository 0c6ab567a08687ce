// [docs/topics.md] Uplinks in every envelope become the right readings at the right times, through the real
// embedded broker and through an upstream subscription, on the embedded store.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, TEST_MQTT_URL } from '../helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const VECTORS = path.resolve(import.meta.dirname, '../fixtures/vectors');
const vector = (file: string, i = 0) => structuredClone(JSON.parse(fs.readFileSync(path.join(VECTORS, file), 'utf8'))[i].message);
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const uniq = () => crypto.randomBytes(4).toString('hex');
const euiFor = (n: number) => `A84041${crypto.randomBytes(3).toString('hex').toUpperCase()}${String(n).padStart(4, '0')}`.slice(0, 16);

/** ChirpStack v4 "up" event, built from the documented example. */
function chirpstack(devEui: string, fPort: number, hex: string, time: string, fCnt?: number): Record<string, unknown> {
  const m = vector('chirpstack-v4-up.json');
  m.deduplicationId = crypto.randomUUID();
  m.time = time;
  m.deviceInfo.devEui = devEui.toLowerCase();
  m.fPort = fPort;
  m.data = b64(hex);
  if (fCnt === undefined) delete m.fCnt;
  else m.fCnt = fCnt;
  return m;
}
const csTopic = (app: string, devEui: string) => `application/${app}/device/${devEui.toLowerCase()}/event/up`;

/** The Things Stack v3 uplink, built from the documented example. */
function tts(deviceId: string, devEui: string, fPort: number, hex: string, time: string, fCnt: number, decoded?: Record<string, unknown>) {
  const m = vector('tts-v3-up.json');
  m.end_device_ids.device_id = deviceId;
  m.end_device_ids.dev_eui = devEui;
  m.received_at = time;
  Object.assign(m.uplink_message, { f_port: fPort, f_cnt: fCnt, frm_payload: b64(hex), received_at: time });
  if (decoded) m.uplink_message.decoded_payload = decoded;
  return m;
}

async function points(s: TestSystem, id: string, metric: string, from = '2020-01-01T00:00:00Z') {
  const r = await s.ok('GET', `/api/v1/devices/${id}/readings?metric=${metric}&from=${from}`);
  return r.points as { time: string; value: number; quality?: number }[];
}

describe('ingest through the embedded broker', () => {
  let s: TestSystem;
  let c: mqtt.MqttClient;
  beforeAll(async () => {
    s = await startSystem({ store: 'pglite' });
    c = await s.mqttClient();
  });
  afterAll(async () => {
    c?.end(true);
    await s?.close();
  });

  const now = Date.now();
  const iso = (dt: number) => new Date(now - dt).toISOString();

  interface Case {
    name: string;
    device: Record<string, unknown>;
    topic: (d: { id: string; devEui: string }) => string;
    body: (d: { id: string; devEui: string }) => unknown;
    expect: Record<string, Array<[string, number]>>;
    absent?: string[];
    check?: (s: TestSystem, id: string) => Promise<void>;
  }
  const cases: Case[] = [
    {
      name: 'ChirpStack v4 without fCnt (protobuf-JSON omits 0), Dragino LDDS75 with level from mountHeightMm',
      device: { model: 'dragino-ldds75', params: { mountHeightMm: 3500 } },
      topic: (d) => csTopic(`app-${uniq()}`, d.devEui),
      body: (d) => chirpstack(d.devEui, 2, '0D3B0AEF00000001', '2022-07-18T09:34:15.775023242+00:00'),
      expect: {
        distance_mm: [['2022-07-18T09:34:15.775Z', 2799]],
        battery_v: [['2022-07-18T09:34:15.775Z', 3.387]],
        level_cm: [['2022-07-18T09:34:15.775Z', 70.1]],
        rssi_dbm: [['2022-07-18T09:34:15.775Z', -36]],
        snr_db: [['2022-07-18T09:34:15.775Z', 10.5]],
      },
      async check(s, id) {
        const r = await s.ctx.db.query<{ f_cnt: number; f_port: number; source: string }>('select f_cnt, f_port, source from uplinks where device_id = $1', [
          id,
        ]);
        expect(r.rows).toEqual([{ f_cnt: 0, f_port: 2, source: 'chirpstack' }]);
      },
    },
    {
      name: 'TTS v3 with tenant; decoded_payload ignored for a built-in model (Milesight EM310-UDL)',
      device: { model: 'milesight-em310-udl', params: {} },
      topic: (d) => `v3/app-${uniq()}@tenant1/devices/${d.id}/up`,
      body: (d) => tts(d.id, d.devEui, 85, '01755C03824408040001', iso(60_000), 7, { distance: 9999, battery: 1 }),
      expect: { distance_mm: [[iso(60_000), 2116]], battery_pct: [[iso(60_000), 92]], rssi_dbm: [[iso(60_000), -35]] },
    },
    {
      name: 'native single reading set with time',
      device: { model: 'generic', params: { mountHeightMm: 3000, levelOffsetCm: 5 } },
      topic: (d) => `devices/${d.id}/up`,
      body: () => ({ time: iso(30_000), readings: { distance_mm: 1000, battery_v: 3.6, temperature_c: -2.5 } }),
      // level_cm = (3000 − 1000)/10 + 5 [docs/topics.md Canonical metrics: level_cm]
      expect: { distance_mm: [[iso(30_000), 1000]], level_cm: [[iso(30_000), 205]], battery_v: [[iso(30_000), 3.6]], temperature_c: [[iso(30_000), -2.5]] },
    },
    {
      name: 'native array of reading sets',
      device: { model: 'generic', params: {} },
      topic: (d) => `devices/${d.id}/up`,
      body: () => [
        { time: iso(180_000), readings: { rain_mm: 0.2 } },
        { time: iso(120_000), readings: { rain_mm: 1.4 } },
        { time: iso(60_000), readings: { rain_mm: 0, level_cm: 88.5 } },
      ],
      expect: {
        rain_mm: [
          [iso(180_000), 0.2],
          [iso(120_000), 1.4],
          [iso(60_000), 0],
        ],
        level_cm: [[iso(60_000), 88.5]],
      },
      absent: ['distance_mm'],
    },
  ];

  it.each(cases.map((x, i) => [x.name, i] as const))('%s', async (_name, i) => {
    const k = cases[i];
    const d = { id: `dev-${i}-${uniq()}`, devEui: euiFor(i) };
    await s.ok('POST', '/api/v1/devices', { id: d.id, name: k.name.slice(0, 40), devEui: d.devEui, ...k.device });
    await publish(c, k.topic(d), k.body(d));
    for (const [metric, want] of Object.entries(k.expect)) {
      const got = await points(s, d.id, metric);
      expect(
        got.map((p) => [p.time, Math.round(p.value * 1e6) / 1e6]),
        metric,
      ).toEqual(want);
    }
    for (const metric of k.absent ?? []) expect(await points(s, d.id, metric)).toEqual([]);
    await k.check?.(s, d.id);
  });

  it('native reading without time is stamped with the receive time', async () => {
    const id = `notime-${uniq()}`;
    await s.ok('POST', '/api/v1/devices', { id, name: 'no time', model: 'generic' });
    const t0 = Date.now();
    await publish(c, `devices/${id}/up`, { readings: { level_cm: 10 } });
    const [p] = await points(s, id, 'level_cm');
    expect(Date.parse(p.time)).toBeGreaterThanOrEqual(t0 - 1000);
    expect(Date.parse(p.time)).toBeLessThanOrEqual(Date.now());
  });

  // Tipping-bucket counters: the first value sets the baseline, deltas × mmPerTip, a reset restarts at 0.
  const sn50 = (count: number) => {
    const b = Buffer.alloc(11);
    b.writeUInt16BE(3600, 0); // battery mV
    b.writeInt16BE(0x7fff, 2); // no temperature probe
    b.writeUInt16BE(0, 4);
    b[6] = 5 << 2; // mode 5 = pulse count (AT+MOD=6)
    b.writeUInt32BE(count, 7);
    return b.toString('hex');
  };
  const elsysAbs = (count: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x0b; // pulse1 absolute, uint32
    b.writeUInt32BE(count, 1);
    return `0100E2${b.toString('hex')}`; // with a temperature record first
  };
  it.each([
    ['dragino-sn50v3-count', 'chirpstack', sn50],
    ['elsys-elt', 'tts', elsysAbs],
  ] as const)('%s counter via %s → rain_mm deltas with baseline and counter reset', async (model, env, frame) => {
    const id = `rain-${model}-${uniq()}`;
    const devEui = euiFor(42);
    await s.ok('POST', '/api/v1/devices', { id, name: 'Regenschreiber', model, devEui, params: { mmPerTip: 0.2 } });
    const counts = [1000, 1010, 1013, 1013, 2]; // 2: reset (battery change) → 2 tips since
    const times = counts.map((_, i) => iso((10 - i) * 60_000));
    const app = `rain-${uniq()}`;
    for (const [i, n] of counts.entries()) {
      const body = env === 'chirpstack' ? chirpstack(devEui, 2, frame(n), times[i], i + 1) : tts(id, devEui, 5, frame(n), times[i], i + 1);
      await publish(c, env === 'chirpstack' ? csTopic(app, devEui) : `v3/${app}/devices/${id}/up`, body);
    }
    const got = await points(s, id, 'rain_mm');
    expect(got.map((p) => [p.time, Math.round(p.value * 1e6) / 1e6])).toEqual([
      [times[1], 2.0],
      [times[2], 0.6],
      [times[3], 0],
      [times[4], 0.4],
    ]);
  });
});

describe('ingest through an upstream broker (embedded broker off)', () => {
  let s: TestSystem;
  let upstreamUrl: string;
  let aedesServer: net.Server | undefined;
  let aedesBroker: Aedes | undefined;
  beforeAll(async () => {
    upstreamUrl = TEST_MQTT_URL ?? '';
    if (!upstreamUrl) {
      const port = await freePort();
      aedesBroker = await Aedes.createBroker();
      aedesServer = net.createServer(aedesBroker.handle);
      await new Promise<void>((r) => aedesServer!.listen(port, '127.0.0.1', r));
      upstreamUrl = `mqtt://127.0.0.1:${port}`;
    }
    s = await startSystem({ store: 'pglite', env: { MQTT_PORT: 'off', UPSTREAM_MQTT_URL: upstreamUrl } });
    expect(s.mqttUrl).toBeNull();
    await waitFor(() => s.ctx.brokerReady(), 10_000, 'upstream connection');
    await new Promise((r) => setTimeout(r, 500)); // SUBACK
  });
  afterAll(async () => {
    await s?.close();
    if (aedesBroker) await new Promise<void>((r) => aedesBroker!.close(() => r()));
    aedesServer?.close();
  });

  it('/readyz reports the upstream subscription as the broker', async () => {
    const r = await fetch(`${s.httpUrl}/readyz`);
    expect(r.status).toBe(200);
  });

  it('stores ChirpStack and TTS uplinks published by a plain client on the upstream broker', async () => {
    const csEui = euiFor(7);
    const ttsId = `up-tts-${uniq()}`;
    const ttsEui = euiFor(8); // euiFor is random: the body must name the EUI the device was registered with
    await s.ok('POST', '/api/v1/devices', { id: `up-cs-${uniq()}`, name: 'up cs', model: 'dragino-ldds75', devEui: csEui, params: { mountHeightMm: 5000 } });
    const csId = (await s.ok('GET', '/api/v1/devices')).items.find((d: { devEui: string }) => d.devEui === csEui).id;
    await s.ok('POST', '/api/v1/devices', { id: ttsId, name: 'up tts', model: 'milesight-em310-udl', devEui: ttsEui });
    const plain = mqtt.connect(upstreamUrl, { reconnectPeriod: 0 });
    await new Promise((r, j) => {
      plain.once('connect', r);
      plain.once('error', j);
    });
    const t1 = new Date(Date.now() - 20_000).toISOString();
    const t2 = new Date(Date.now() - 10_000).toISOString();
    const app = `rw-test-${uniq()}`;
    await publish(plain, csTopic(app, csEui), chirpstack(csEui, 2, '0BB80FA00000C801', t1, 1));
    await publish(plain, `v3/${app}@t1/devices/${ttsId}/up`, tts(ttsId, ttsEui, 85, '01755C03824408040001', t2, 3));
    plain.end(true);
    const cs = await waitFor(async () => (await points(s, csId, 'distance_mm')).at(0), 8000, 'ChirpStack reading');
    expect(cs).toEqual({ time: t1, value: 4000 });
    expect(await points(s, csId, 'level_cm')).toEqual([{ time: t1, value: 100 }]);
    const tt = await waitFor(async () => (await points(s, ttsId, 'distance_mm')).at(0), 8000, 'TTS reading');
    expect(tt).toEqual({ time: t2, value: 2116 });
  });
});
