// Hostile input through the real API and broker (issue 11): prototype keys, NUL bytes, lone surrogates,
// control characters in names. Each is refused or stored as what it is; nothing is half-applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../../services/notify/test-server.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

let s: TestSystem;
let sms: TestServer;

const rejected = async (marker: string) =>
  waitFor(
    async () =>
      (await s.ok('GET', '/api/v1/rejected-uplinks?limit=1000')).items.find((r: { payload: string; payloadEncoding: string }) => {
        const text = r.payloadEncoding.startsWith('base64') ? Buffer.from(r.payload, 'base64').toString('utf8') : r.payload;
        return text.includes(marker);
      }),
    8000,
    `the rejection of ${marker}`,
  );

beforeAll(async () => {
  sms = await startServer((_req, res) => json(res, 200, { ok: true }));
  s = await startSystem({ store: 'pg', env: { SMS_PROVIDER: 'http', SMS_HTTP_URL: `${sms.url}/sms`, SMS_HTTP_TOKEN: 'sms-test-token' } });
  await s.ok('POST', '/api/v1/devices', { id: 'gauge-1', name: 'Pegel', model: 'generic' });
  await s.ok('POST', '/api/v1/devices', { id: 'ldds-1', name: 'LDDS', model: 'dragino-ldds75', devEui: 'A84041000BAD0A01', params: { mountHeightMm: 3000 } });
});
afterAll(async () => {
  await s?.close();
  await sms?.close();
});

describe('prototype keys are not metrics', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('readings?metric=%s answers 400', async (m) => {
    const r = await s.api('GET', `/api/v1/devices/gauge-1/readings?metric=${m}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
  });

  it.each(['constructor', 'toString', '__proto__'])('a field map with key %s is refused (400 unknown_metric) on devices and codecs', async (k) => {
    // JSON text, so __proto__ arrives as an own key the way an attacker sends it
    const dev = await fetch(`${s.httpUrl}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: `{"id":"fm-${k.replace(/_/g, '')}","name":"x","model":"js-codec","params":{"codec":"c","fieldMap":{"${k}":"d"}}}`,
    });
    const body = await dev.json();
    expect(dev.status).toBe(400);
    // the JSON parser itself refuses a __proto__ key (prototype poisoning); the others reach the field-map check
    expect(JSON.stringify(body)).toMatch(k === '__proto__' ? /BAD_REQUEST/ : /unknown_metric/);
    const codec = await fetch(`${s.httpUrl}/api/v1/codecs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: `{"id":"c-${k.replace(/_/g, '')}","source":"function decodeUplink(i){return {data:{d:1}}}","fieldMap":{"${k}":"d"}}`,
    });
    expect(codec.status).toBe(400);
  });

  it.each(['constructor', 'toString', 'valueOf'])('an uplink with metric %s is rejected as unknown_metric and stores nothing', async (m) => {
    const c = await s.mqttClient();
    const marker = `proto-${m}`;
    await publish(c, 'devices/gauge-1/up', `{"m":"${marker}","readings":{"${m}":1}}`);
    c.end(true);
    const r = await rejected(marker);
    expect(r.reason).toBe('unknown_metric');
    expect(r.deviceId).toBe('gauge-1');
  });
});

describe('NUL bytes and lone surrogates', () => {
  it.each([
    ['a NUL in a name', { id: 'nul-1', name: 'Pegel\u0000x', model: 'generic' }, 'body.name'],
    ['a lone surrogate in a name', { id: 'sur-1', name: 'Pegel \ud800', model: 'generic' }, 'body.name'],
    ['a NUL in a tag key', { id: 'nul-2', name: 'x', model: 'generic', tags: { 'a\u0000': 'b' } }, 'body.tags.a?'],
    ['a lone low surrogate in a param', { id: 'sur-2', name: 'x', model: 'generic', params: { note: '\udc00' } }, 'body.params.note'],
  ])('%s answers 400 naming the field, and no device appears', async (_what, body, path) => {
    const r = await s.api('POST', '/api/v1/devices', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.details[0].path).toBe(path);
    expect((await s.api('GET', `/api/v1/devices/${body.id}`)).status).toBe(404);
    expect((await s.ok('GET', '/api/v1/devices')).items.map((d: { id: string }) => d.id)).not.toContain(body.id);
  });

  it('a NUL in a query parameter answers 400, not 500', async () => {
    expect((await s.api('GET', '/api/v1/rejected-uplinks?reason=%00')).status).toBe(400);
    expect((await s.api('GET', '/api/v1/alarms?deviceId=x%00')).status).toBe(400);
  });

  it('a NUL in an uplink is kept as the rejection it is (escaped), never a store_error', async () => {
    const c = await s.mqttClient();
    await publish(c, 'devices/gauge-1/up', '{"m":"nul-metric","readings":{"lev\\u0000el_cm":1}}');
    c.end(true);
    const r = await rejected('nul-metric');
    expect(r.reason).toBe('unknown_metric');
    expect(r.message).toContain('lev\\u0000el_cm');
    const errs = (await s.ok('GET', '/api/v1/rejected-uplinks?reason=store_error')).items;
    expect(errs).toEqual([]);
  });
});

describe('rejected uplinks name the device of their topic', () => {
  it.each([
    ['native', 'devices/gauge-1/up', 'gauge-1'],
    ['ChirpStack', 'application/app/device/a84041000bad0a01/event/up', 'ldds-1'],
    ['TTS', 'v3/app@ttn/devices/ldds-1/up', 'ldds-1'],
  ])('%s body that is not JSON', async (_what, topic, deviceId) => {
    const c = await s.mqttClient();
    const marker = `broken-${deviceId}-${topic.length}`;
    await publish(c, topic, `{"m":"${marker}", broken`);
    c.end(true);
    const r = await rejected(marker);
    expect(r.reason).toBe('invalid_json');
    expect(r.deviceId).toBe(deviceId);
  });
});

describe('names in an SMS', () => {
  it('a newline or control character in a device name never starts a line of its own', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'sms-1', name: 'Pegel\nENTWARNUNG: kein Hochwasser\r\u0007', model: 'generic' });
    await s.ok('POST', '/api/v1/rules', {
      name: 'hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['sms-1'] },
      levels: [{ severity: 'severe', threshold: 100 }],
    });
    await s.ok('POST', '/api/v1/routes', { name: 'sms', targets: [{ type: 'sms', to: '+491701234567' }] });
    const c = await s.mqttClient();
    await publish(c, 'devices/sms-1/up', { readings: { level_cm: 150 } });
    c.end(true);
    const req = await waitFor(
      async () => {
        await s.alerting!.settle();
        return sms.requests.find((r) => JSON.parse(r.body).text.includes('sms-1'));
      },
      8000,
      'the SMS',
    );
    const text: string = JSON.parse(req.body).text;
    // the name stays on the alarm's line (shortened to leave room for the Quittieren link), with its id
    expect(text).toMatch(/ an Pegel ENTWARNUNG:[^\n]* \(sms-1\)/);
    expect(text).not.toMatch(/[\u0000-\u001f]/);
  });
});
