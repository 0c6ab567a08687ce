// [docs/topics.md] The embedded broker: authenticated clients only, per-credential publish ACLs, secrets hashed.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem, waitFor } from '../../test/helpers/system.ts';

let s: TestSystem;
beforeAll(async () => {
  s = await startSystem({ store: 'pglite' });
  for (const id of ['gauge-a', 'gauge-b']) await s.ok('POST', '/api/v1/devices', { id, name: id, model: 'generic' });
});
afterAll(() => s?.close());

/** Resolves with 'connected' or the CONNACK refusal code. */
function tryConnect(opts: mqtt.IClientOptions): Promise<{ result: 'connected' | 'refused'; code?: number; client: MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(s.mqttUrl!, { reconnectPeriod: 0, connectTimeout: 4000, ...opts });
    const t = setTimeout(() => resolve({ result: 'refused', client }), 5000);
    client.once('connect', () => {
      clearTimeout(t);
      resolve({ result: 'connected', client });
    });
    client.once('error', (e) => {
      clearTimeout(t);
      resolve({ result: 'refused', code: (e as { code?: number }).code, client });
    });
  });
}

const withTimeout = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

describe('authentication', () => {
  let cred: { username: string; password: string };
  beforeAll(async () => {
    cred = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'field-team', publish: ['devices/+/up'] });
    expect(cred.password).toEqual(expect.any(String));
  });

  it('accepts the issued credential', async () => {
    const r = await tryConnect({ username: cred.username, password: cred.password });
    r.client.end(true);
    expect(r.result).toBe('connected');
  });

  it.each([
    ['a wrong password', () => ({ username: cred.username, password: `${cred.password}x` })],
    ['an unknown username', () => ({ username: 'nobody', password: cred.password })],
    ['no credentials at all (anonymous)', () => ({})],
    ['a username without password', () => ({ username: cred.username })],
  ])('refuses %s with CONNACK "bad username or password"', async (_what, opts) => {
    const r = await tryConnect(opts());
    r.client.end(true);
    expect(r.result).toBe('refused');
    expect(r.code).toBe(4); // [MQTT-3.2.2.3] 0x04 bad user name or password
  });

  it('stores MQTT passwords hashed only', async () => {
    const rows = await s.ctx.db.query('select * from mqtt_credentials');
    const dump = JSON.stringify(rows.rows);
    expect(dump).toContain(cred.username);
    expect(dump).not.toContain(cred.password);
    expect(dump).not.toContain(cred.password.replace(/^mq_/, ''));
    const audit = JSON.stringify((await s.ctx.db.query('select * from audit_log')).rows);
    expect(audit).not.toContain(cred.password);
    const listed = await s.ok('GET', '/api/v1/mqtt-credentials');
    expect(JSON.stringify(listed)).not.toContain(cred.password);
  });

  it('a deleted credential can no longer log in', async () => {
    const tmp = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'temp-cred', publish: ['devices/+/up'] });
    expect((await s.api('DELETE', '/api/v1/mqtt-credentials/temp-cred')).status).toBe(204);
    const r = await tryConnect({ username: tmp.username, password: tmp.password });
    r.client.end(true);
    expect(r.result).toBe('refused');
  });
});

describe('publish ACL', () => {
  it('a credential for devices/gauge-a/up cannot make a reading for gauge-b; the attempt is kept as acl_denied', async () => {
    const lim = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'only-a', publish: ['devices/gauge-a/up'] });
    const bystander = await s.mqttClient(['devices/gauge-a/up']);
    const c = mqtt.connect(s.mqttUrl!, { username: lim.username, password: lim.password, reconnectPeriod: 0 });
    await new Promise((r, j) => {
      c.once('connect', r);
      c.once('error', j);
    });
    const t = new Date(Date.now() - 5000).toISOString();
    // allowed topic: acknowledged and stored
    await publish(c, 'devices/gauge-a/up', { time: t, readings: { level_cm: 12 } });
    // forbidden topic: never acknowledged (3.1.1 has no negative PUBACK; the broker drops the client)
    const denied = await withTimeout(
      publish(c, 'devices/gauge-b/up', { time: t, readings: { level_cm: 999 } }).then(
        () => 'acked',
        () => 'error',
      ),
      3000,
    );
    expect(denied).not.toBe('acked');
    c.end(true);

    const rej = await waitFor(
      async () => {
        const r = await s.ok('GET', '/api/v1/rejected-uplinks?reason=acl_denied');
        return r.items.find((x: { topic: string }) => x.topic === 'devices/gauge-b/up');
      },
      5000,
      'acl_denied rejection',
    );
    expect(rej.message).toContain('only-a');
    expect(rej.payload).toContain('999');

    const b = await s.ok('GET', '/api/v1/devices/gauge-b/readings?metric=level_cm');
    expect(b.points).toEqual([]);
    const a = await s.ok('GET', '/api/v1/devices/gauge-a/readings?metric=level_cm');
    expect(a.points).toEqual([{ time: t, value: 12 }]);

    // other clients are not affected
    const t2 = new Date(Date.now() - 4000).toISOString();
    await publish(bystander, 'devices/gauge-a/up', { time: t2, readings: { level_cm: 13 } });
    bystander.end(true);
    expect((await s.ok('GET', '/api/v1/devices/gauge-a/readings?metric=level_cm')).points).toHaveLength(2);
  });

  it.each([
    ['devices/+/up', 'devices/gauge-b/up', true],
    ['devices/+/up', 'devices/gauge-b/down', false],
    ['application/42/#', 'application/42/device/a840410000000001/event/up', true],
    ['application/42/#', 'application/43/device/a840410000000001/event/up', false],
  ])('filter %s allows %s: %s', async (filter, topic, allowed) => {
    const u = `f-${Math.random().toString(36).slice(2, 8)}`;
    await s.ok('POST', '/api/v1/mqtt-credentials', { username: u, publish: [filter] });
    expect(s.ctx.credentials.mayPublish(u, topic)).toBe(allowed);
  });
});

// A device's uplink is passed on to MQTT subscribers only once some client was granted a subscription; these
// hold whichever comes first.
describe('uplinks and MQTT subscribers', () => {
  it('a retained uplink sent while nobody subscribed reaches a dashboard bridge that subscribes later, and so do the next ones', async () => {
    const gauge = await s.mqttClient(['devices/gauge-b/up']);
    const t0 = new Date(Date.now() - 3000).toISOString();
    const t1 = new Date(Date.now() - 2000).toISOString();
    await publish(gauge, 'devices/gauge-b/up', { time: t0, readings: { level_cm: 20 } });
    await new Promise<void>((res, rej) =>
      gauge.publish('devices/gauge-b/up', JSON.stringify({ time: t1, readings: { level_cm: 21 } }), { qos: 1, retain: true }, (e) => (e ? rej(e) : res())),
    );
    const cred = await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'bridge-later', publish: ['devices/gauge-b/up'], subscribe: ['devices/+/up'] });
    const bridge = (await tryConnect({ username: cred.username, password: cred.password })).client;
    const got: Array<{ retain: boolean; body: string }> = [];
    bridge.on('message', (_t, body, packet) => got.push({ retain: packet.retain, body: body.toString() }));
    await new Promise<void>((res, rej) => bridge.subscribe('devices/gauge-b/up', { qos: 1 }, (e) => (e ? rej(e) : res())));
    await waitFor(() => got.length >= 1, 5000, 'the retained uplink');
    expect(got[0].retain).toBe(true);
    expect(JSON.parse(got[0].body).readings.level_cm).toBe(21);
    const t2 = new Date(Date.now() - 1000).toISOString();
    await publish(gauge, 'devices/gauge-b/up', { time: t2, readings: { level_cm: 22 } });
    await waitFor(() => got.length >= 2, 5000, 'the next uplink');
    expect(JSON.parse(got[1].body).readings.level_cm).toBe(22);
    gauge.end(true);
    bridge.end(true);
    const stored = (await s.ok('GET', '/api/v1/devices/gauge-b/readings?metric=level_cm')).points.map((p: { value: number }) => p.value);
    expect(stored).toEqual(expect.arrayContaining([20, 21, 22]));
  });
});
