// [docs/security.md#codec-sandbox] Uploaded js-codecs that hung the process (a thrown error with a looping `stack`
// getter, a thrown Proxy with looping traps), froze it for seconds (a 2 GiB typed array) or killed it (a
// 2^28-character string) become rejected uplinks with a reason, while /healthz keeps answering and MQTT keeps
// acknowledging; a normal codec keeps working afterwards. Through the real broker and API.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const HOSTILE = [
  {
    id: 'stack-getter',
    reason: 'codec_error',
    body: "var e = new Error('kaputt'); Object.defineProperty(e, 'stack', { get: function () { for (;;) {} } }); throw e;",
  },
  {
    id: 'thrown-proxy',
    reason: 'codec_timeout',
    body: 'var h = function () { for (;;) {} }; throw new Proxy({}, { get: h, has: h, getPrototypeOf: h, ownKeys: h, getOwnPropertyDescriptor: h, apply: h });',
  },
  { id: 'typed-array-2gib', reason: 'codec_memory', body: 'var a = new Uint8Array(2 * 1024 * 1024 * 1024); return { data: { d: a.length } };' },
  { id: 'string-2p28', reason: 'codec_memory', body: "var s = 'x'.repeat(Math.pow(2, 28)); return { data: { d: s.split('').length } };" },
] as const;
const GOOD = 'function decodeUplink(input) { return { data: { d: (input.bytes[0] << 8) | input.bytes[1] } }; }';

let s: TestSystem;
let client: MqttClient;
let steady: MqttClient;
let fCnt = 0;
const ttsUp = (device: string, hex: string, time = new Date(Date.now() - 1000).toISOString()) => ({
  end_device_ids: { device_id: device },
  received_at: time,
  uplink_message: { f_port: 2, f_cnt: ++fCnt, frm_payload: b64(hex), received_at: time },
});

beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  for (const c of [...HOSTILE, { id: 'good', body: null }]) {
    const source = c.body === null ? GOOD : `function decodeUplink(input) { ${c.body} }`;
    await s.ok('POST', '/api/v1/codecs', { id: c.id, source, fieldMap: { distance_mm: 'd' } });
    await s.ok('POST', '/api/v1/devices', { id: `js-${c.id}`, name: c.id, model: 'js-codec', params: { codec: c.id } });
  }
  await s.ok('POST', '/api/v1/devices', { id: 'steady', name: 'steady', model: 'generic' });
  client = await s.mqttClient();
  steady = await s.mqttClient(['devices/steady/up']);
});
afterAll(async () => {
  client?.end(true);
  steady?.end(true);
  await s?.close();
});

/** Polls /healthz every 10 ms (and publishes a native reading every 25 ms) until `work` settles. */
async function whileResponsive(work: Promise<unknown>) {
  let done = false;
  const latencies: number[] = [];
  let acked = 0;
  const polling = (async () => {
    while (!done) {
      const t0 = performance.now();
      const r = await fetch(`${s.httpUrl}/healthz`);
      await r.text();
      latencies.push(performance.now() - t0);
      expect(r.status).toBe(200);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  const publishing = (async () => {
    for (let i = 0; !done; i++) {
      await publish(steady, 'devices/steady/up', { time: new Date(Date.now() - 5000 + i).toISOString(), readings: { level_cm: i } });
      acked++;
      await new Promise((res) => setTimeout(res, 25));
    }
  })();
  await work;
  done = true;
  await Promise.all([polling, publishing]);
  return { latencies, acked };
}

describe('hostile js-codecs', () => {
  it.each(HOSTILE.map((c) => [c.id, c.reason] as const))(
    '%s: rejected as %s while /healthz keeps answering (never stalled for a second)',
    async (id, reason) => {
      const device = `js-${id}`;
      // several uplinks in a row, so the polling overlaps the decodes for a while
      const work = (async () => {
        for (let i = 0; i < 4; i++) await publish(client, `v3/app/devices/${device}/up`, ttsUp(device, '0102'));
      })();
      const { latencies, acked } = await whileResponsive(work);
      expect(latencies.length).toBeGreaterThan(0);
      // A liveness bound, not a speed figure: a codec on the main thread stalls the loop for seconds (the 2^28-character
      // string alone), while a loaded 2-core machine adds at most a few hundred ms to one poll.
      expect(Math.max(...latencies), `healthz answered in ${latencies.map(Math.round).join(', ')} ms`).toBeLessThan(1000);
      expect(acked).toBeGreaterThan(0); // MQTT went on acknowledging other devices' uplinks meanwhile
      const r = await s.ok('GET', `/api/v1/rejected-uplinks?deviceId=${device}`);
      expect(r.items).toHaveLength(4);
      for (const item of r.items) {
        expect(item.reason, item.message).toBe(reason);
        expect(item.message.length).toBeGreaterThan(5);
      }
      expect(client.connected).toBe(true);
    },
  );

  it('a normal codec keeps working afterwards, and nothing was stored for the hostile ones', async () => {
    const t = new Date(Date.now() - 500).toISOString();
    await publish(client, 'v3/app/devices/js-good/up', ttsUp('js-good', '0AEF', t));
    expect((await s.ok('GET', '/api/v1/devices/js-good/readings?metric=distance_mm')).points).toEqual([{ time: t, value: 2799 }]);
    for (const c of HOSTILE) expect((await s.ok('GET', `/api/v1/devices/js-${c.id}/readings?metric=distance_mm`)).points).toEqual([]);
    expect((await fetch(`${s.httpUrl}/readyz`)).status).toBe(200);
  });
});

describe('POST /api/v1/codecs with a test frame', () => {
  it('shows the decoded output and the mapped metrics', async () => {
    const r = await s.api('POST', '/api/v1/codecs', { id: 'tested', source: GOOD, fieldMap: { distance_mm: 'd' }, test: { fPort: 2, bytes: '0AEF' } });
    expect(r.status).toBe(201);
    expect(r.body.test).toEqual({ output: { data: { d: 2799 } }, values: { distance_mm: 2799 } });
  });

  it.each([
    ['a codec that throws', 'function decodeUplink(input) { throw new Error("byte " + input.bytes[0] + " unexpected"); }', 'codec_error', /byte 10 unexpected/],
    ['a codec reporting errors', 'function decodeUplink(input) { return { errors: ["unknown fPort " + input.fPort] }; }', 'decode_error', /unknown fPort 2/],
    ['a field map that finds nothing', 'function decodeUplink(input) { return { data: { other: 1 } }; }', 'decode_error', /none of the mapped fields/],
    [
      'a 2 GiB typed array',
      'function decodeUplink() { return { data: { d: new Uint8Array(2147483648).length } }; }',
      'codec_memory',
      /invalid array buffer length|out of memory/,
    ],
    ['an endless loop', 'function decodeUplink() { for (;;) {} }', 'codec_timeout', /longer than 50 ms/],
  ])('answers 400 with the reason for %s, and saves nothing', async (_n, source, reason, message) => {
    const id = `bad-${reason}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await s.api('POST', '/api/v1/codecs', { id, source, fieldMap: { distance_mm: 'd' }, test: { fPort: 2, bytes: '0AEF' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.message).toMatch(message);
    expect(r.body.error.details[0]).toMatchObject({ path: 'body.test', reason });
    expect((await s.api('GET', `/api/v1/codecs/${id}`)).status).toBe(404);
  });

  it('refuses a codec without decodeUplink or with a top level that never ends, and a test frame that is not hex', async () => {
    const none = await s.api('POST', '/api/v1/codecs', { id: 'none', source: 'var decode = 1;', fieldMap: {} });
    expect(none.status).toBe(400);
    expect(none.body.error.details[0]).toMatchObject({ path: 'body.source', reason: 'codec_error' });
    expect(none.body.error.message).toMatch(/no decodeUplink/);
    const loops = await s.api('POST', '/api/v1/codecs', { id: 'loops', source: 'for (;;) {} function decodeUplink() {}', fieldMap: {} });
    expect(loops.status).toBe(400);
    expect(loops.body.error.details[0]).toMatchObject({ path: 'body.source', reason: 'codec_timeout' });
    const hex = await s.api('POST', '/api/v1/codecs', { id: 'hex', source: GOOD, fieldMap: {}, test: { fPort: 2, bytes: '0xZZ' } });
    expect(hex.status).toBe(400);
    expect(JSON.stringify(hex.body.error.details)).toContain('body.test.bytes');
  });
});
