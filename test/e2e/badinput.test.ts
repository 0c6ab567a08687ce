// [docs/topics.md] A malformed uplink is never dropped silently, never disconnects other clients and never
// stops ingestion: each one is acknowledged as a rejected uplink with its reason.
import crypto from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

const EUI = 'A84041000BAD0001';
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const cs = (marker: string, over: Record<string, unknown>) => ({
  deduplicationId: marker,
  time: new Date().toISOString(),
  deviceInfo: { devEui: EUI },
  fCnt: 1,
  fPort: 2,
  data: b64('0D3B0AEF00000001'),
  ...over,
});
const csTopic = (eui = EUI) => `application/bad-app/device/${eui.toLowerCase()}/event/up`;

let s: TestSystem;
let bad: MqttClient;
beforeAll(async () => {
  s = await startSystem({ store: 'pglite' });
  await s.ok('POST', '/api/v1/devices', { id: 'bad-gen', name: 'generic', model: 'generic' });
  await s.ok('POST', '/api/v1/devices', { id: 'bad-ldds', name: 'ldds75', model: 'dragino-ldds75', devEui: EUI });
  await s.ok('POST', '/api/v1/devices', { id: 'steady', name: 'steady', model: 'generic' });
  for (const [id, src] of [
    ['loops', 'function decodeUplink(input) { for (;;) {} }'],
    ['throws', 'function decodeUplink(input) { throw new Error("kaputt " + input.bytes.length); }'],
    ['good', 'function decodeUplink(input) { return { data: { d: input.bytes[0] * 10 } }; }'],
  ] as const) {
    expect((await s.api('POST', '/api/v1/codecs', { id, source: src, fieldMap: { distance_mm: 'd' } })).status).toBe(201);
    await s.ok('POST', '/api/v1/devices', {
      id: `js-${id}`,
      name: id,
      model: 'js-codec',
      params: { codec: id },
      ...(id === 'loops' ? { devEui: 'A84041000BAD0100' } : {}),
    });
  }
  bad = await s.mqttClient();
});
afterAll(async () => {
  bad?.end(true);
  await s?.close();
});

interface Case {
  name: string;
  reason: string;
  topic: string;
  payload: (m: string) => string | Buffer;
}
const cases: Case[] = [
  { name: 'invalid JSON', reason: 'invalid_json', topic: 'devices/bad-gen/up', payload: (m) => `{"m":"${m}","readings":{"level_cm":` },
  { name: 'NaN literal (not JSON)', reason: 'invalid_json', topic: 'devices/bad-gen/up', payload: (m) => `{"m":"${m}","readings":{"level_cm":NaN}}` },
  { name: 'wrong base64 in ChirpStack data', reason: 'bad_envelope', topic: csTopic(), payload: (m) => JSON.stringify(cs(m, { data: '%%%not base64%%%' })) },
  { name: 'ChirpStack body that is an array', reason: 'bad_envelope', topic: csTopic(), payload: (m) => JSON.stringify([m]) },
  {
    name: 'unknown native device',
    reason: 'unknown_device',
    topic: 'devices/nobody-here/up',
    payload: (m) => JSON.stringify({ m, readings: { level_cm: 1 } }),
  },
  {
    name: 'unknown devEui',
    reason: 'unknown_device',
    topic: csTopic('A84041000BAD0FFF'),
    payload: (m) => JSON.stringify(cs(m, { deviceInfo: { devEui: 'A84041000BAD0FFF' } })),
  },
  { name: 'wrong fPort for the model', reason: 'wrong_fport', topic: csTopic(), payload: (m) => JSON.stringify(cs(m, { fPort: 9, fCnt: 2 })) },
  { name: 'truncated frame', reason: 'decode_error', topic: csTopic(), payload: (m) => JSON.stringify(cs(m, { data: b64('0D3B'), fCnt: 3 })) },
  { name: 'Infinity via 1e999', reason: 'out_of_range', topic: 'devices/bad-gen/up', payload: (m) => `{"m":"${m}","readings":{"level_cm":1e999}}` },
  {
    name: 'string where a number belongs',
    reason: 'bad_payload',
    topic: 'devices/bad-gen/up',
    payload: (m) => JSON.stringify({ m, readings: { level_cm: '12.5' } }),
  },
  { name: 'readings not an object', reason: 'bad_payload', topic: 'devices/bad-gen/up', payload: (m) => JSON.stringify({ m, readings: [1, 2] }) },
  { name: 'unknown metric', reason: 'unknown_metric', topic: 'devices/bad-gen/up', payload: (m) => JSON.stringify({ m, readings: { snow_depth_cm: 3 } }) },
  {
    name: 'time that is not a time',
    reason: 'bad_time',
    topic: 'devices/bad-gen/up',
    payload: (m) => JSON.stringify({ m, time: 'gestern', readings: { level_cm: 3 } }),
  },
  {
    name: 'time far in the future',
    reason: 'bad_time',
    topic: 'devices/bad-gen/up',
    payload: (m) => JSON.stringify({ m, time: '2999-01-01T00:00:00Z', readings: { level_cm: 3 } }),
  },
  {
    name: 'js-codec that loops forever',
    reason: 'codec_timeout',
    topic: csTopic('A84041000BAD0100'),
    payload: (m) => JSON.stringify(cs(m, { deviceInfo: { devEui: 'A84041000BAD0100' }, fPort: 1, data: b64('01') })),
  },
  {
    name: 'js-codec that throws',
    reason: 'codec_error',
    topic: 'v3/bad-app/devices/js-throws/up',
    payload: (m) => JSON.stringify({ end_device_ids: { device_id: 'js-throws' }, m, uplink_message: { f_port: 1, f_cnt: 1, frm_payload: b64('0102') } }),
  },
  { name: 'topic none of the three', reason: 'unknown_topic', topic: 'devices/bad-gen/down', payload: (m) => JSON.stringify({ m }) },
];

describe('bad input while another client publishes steadily', () => {
  let steady: MqttClient;
  const acked: number[] = [];
  let steadyClosed = 0;
  let stop = false;
  let loop: Promise<void>;
  const t0 = Date.now() - 60_000;

  beforeAll(async () => {
    steady = await s.mqttClient(['devices/steady/up']);
    steady.on('close', () => steadyClosed++);
    loop = (async () => {
      for (let i = 0; !stop && i < 5000; i++) {
        await publish(steady, 'devices/steady/up', { time: new Date(t0 + i * 10).toISOString(), readings: { level_cm: i } });
        acked.push(i);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  });

  it.each(cases.map((c) => [c.name, c.reason, c] as const))('%s → rejected uplink "%s"', async (_n, reason, c) => {
    const marker = `mk-${crypto.randomBytes(6).toString('hex')}`;
    const topic = c.topic;
    const payload = c.payload(marker);
    // an ACL of '#' lets an unknown topic reach ingestion instead of being refused at the broker
    const client = reason === 'unknown_topic' ? await s.mqttClient(['#']) : bad;
    await publish(client, topic, payload); // PUBACK: it is stored as a rejected uplink
    if (client !== bad) client.end(true);
    const r = await s.ok('GET', `/api/v1/rejected-uplinks?reason=${reason}&limit=1000`);
    const hit = r.items.find((x: { payload: string }) => x.payload.includes(marker));
    expect(hit, `no ${reason} rejection carrying ${marker}`).toBeDefined();
    expect(hit.topic).toBe(topic);
    expect(hit.message.length).toBeGreaterThan(5);
    expect(bad.connected).toBe(true);
  });

  it('no reading was stored for the bad inputs', async () => {
    expect((await s.ok('GET', '/api/v1/devices/bad-gen/readings?metric=level_cm')).points).toEqual([]);
    expect((await s.ok('GET', '/api/v1/devices/bad-ldds/readings?metric=distance_mm&from=2020-01-01T00:00:00Z')).points).toEqual([]);
  });

  it('the steady client was never disconnected and every acknowledged reading is stored', async () => {
    stop = true;
    await loop;
    steady.end(true);
    expect(steadyClosed).toBe(0);
    expect(acked.length).toBeGreaterThan(10);
    const r = await s.ok('GET', `/api/v1/devices/steady/readings?metric=level_cm&from=${new Date(t0 - 1000).toISOString()}`);
    expect(r.points.map((p: { value: number }) => p.value)).toEqual(acked);
  });

  it('the process keeps running and a good js-codec uplink still decodes', async () => {
    expect((await fetch(`${s.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.httpUrl}/readyz`)).status).toBe(200);
    const t = new Date(Date.now() - 1000).toISOString();
    await publish(bad, 'v3/bad-app/devices/js-good/up', {
      end_device_ids: { device_id: 'js-good' },
      received_at: t,
      uplink_message: { f_port: 1, f_cnt: 1, frm_payload: b64('2a') },
    });
    expect((await s.ok('GET', '/api/v1/devices/js-good/readings?metric=distance_mm')).points).toEqual([{ time: t, value: 420 }]);
  });
});

describe('codec API', () => {
  it('refuses a bad field map and uncompilable source, listing paths', async () => {
    const r = await s.api('POST', '/api/v1/codecs', {
      id: 'c1',
      source: 'function decodeUplink(i) { return {data:{}} }',
      fieldMap: { snow_cm: 'x', distance_mm: 'a..b' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['body.fieldMap.snow_cm', 'body.fieldMap.distance_mm']));
    const r2 = await s.api('POST', '/api/v1/codecs', { id: 'c2', source: 'function decodeUplink( {', fieldMap: {} });
    expect(r2.status).toBe(400);
    expect(r2.body.error.details[0].path).toBe('body.source');
  });

  it('viewers may not upload; uploads, replacements and deletes are audited', async () => {
    const v = await s.api('POST', '/api/v1/tokens', { name: 'codec-viewer', role: 'viewer' });
    expect((await s.api('POST', '/api/v1/codecs', { id: 'v1', source: 'function decodeUplink(){}', fieldMap: {} }, v.body.token)).status).toBe(403);
    const src = 'function decodeUplink(i) { return { data: { b: i.bytes[0] } }; }';
    expect((await s.api('POST', '/api/v1/codecs', { id: 'aud', source: src, fieldMap: { battery_pct: 'b' } })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/codecs', { id: 'aud', source: src, fieldMap: { battery_pct: 'b' } })).status).toBe(200);
    expect((await s.ok('GET', '/api/v1/codecs/aud')).source).toBe(src);
    expect((await s.ok('GET', '/api/v1/codecs')).items.map((c: { id: string }) => c.id)).toContain('aud');
    expect((await s.api('DELETE', '/api/v1/codecs/aud')).status).toBe(204);
    expect((await s.api('GET', '/api/v1/codecs/aud')).status).toBe(404);
    const log = await s.ok('GET', '/api/v1/audit?entity=codec');
    expect(
      log.items
        .filter((e: { entityId: string }) => e.entityId === 'aud')
        .map((e: { action: string }) => e.action)
        .sort(),
    ).toEqual(['create', 'delete', 'update']);
  });
});
