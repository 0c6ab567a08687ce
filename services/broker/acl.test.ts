// Through the real broker: subscribe is denied unless granted, a municipality's integrator grants rights only
// to its own devices, a client id belongs to the credential that first used it, and deleting or rotating a
// credential ends its connections. [docs/security.md]
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase, REQUIRE_EXTERNAL, TEST_DATABASE_URL } from '../../test/helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../../test/helpers/system.ts';

let s: TestSystem;
const EUI_W = 'A8404100000000C1';
beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  await s.ok('POST', '/api/v1/devices', { id: 'acl-a', name: 'a', model: 'generic' });
  await s.ok('POST', '/api/v1/devices', { id: 'g-1', name: 'Gießen 1', model: 'generic', org: 'giessen' });
  await s.ok('POST', '/api/v1/devices', { id: 'g-2', name: 'Gießen 2', model: 'generic', org: 'giessen' });
  await s.ok('POST', '/api/v1/devices', { id: 'w-1', name: 'Wetzlar 1', model: 'dragino-ldds75', devEui: EUI_W, org: 'wetzlar' });
});
afterAll(() => s?.close());

type Cred = { username: string; password: string };
const cred = (username: string, publish: string[], subscribe?: string[]): Promise<Cred> =>
  s.ok('POST', '/api/v1/mqtt-credentials', { username, publish, ...(subscribe ? { subscribe } : {}) });

function connect(c: Cred, opts: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; code?: number }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(s.mqttUrl!, { username: c.username, password: c.password, reconnectPeriod: 0, ...opts });
    client.once('connect', () => resolve({ client }));
    client.once('error', (e) => resolve({ client, code: (e as { code?: number }).code ?? -1 }));
  });
}
/** the SUBACK return code: the granted QoS, or 0x80 for a refusal [MQTT-3.9.3] */
const granted = (c: MqttClient, filter: string) =>
  new Promise<number>((res, rej) =>
    c.subscribe(filter, { qos: 1 }, (e, _g, suback) => (suback && 'granted' in suback ? res(Number(suback.granted[0])) : rej(e ?? new Error('no SUBACK')))),
  );
const closed = (c: MqttClient) => new Promise<void>((r) => (c.connected ? c.once('close', () => r()) : r()));

describe('subscribe', () => {
  it('is denied by default: a publishing credential subscribing to # or a device topic gets SUBACK 0x80 and reads nothing', async () => {
    const { client: spy } = await connect(await cred('pub-only', ['devices/acl-a/up']));
    const got: string[] = [];
    spy.on('message', (t) => got.push(t));
    expect(await granted(spy, '#')).toBe(128);
    expect(await granted(spy, 'devices/acl-a/up')).toBe(128);
    const { client: gauge } = await connect(await cred('gauge-a', ['devices/acl-a/up']));
    await publish(gauge, 'devices/acl-a/up', { readings: { level_cm: 1 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    gauge.end(true);
    spy.end(true);
  });

  it('explicit subscribe patterns are checked like publish: covered filters granted, wider ones, # and $share refused', async () => {
    const { client: bridge } = await connect(await cred('dashboard-bridge', ['devices/acl-a/up'], ['devices/+/up']));
    expect(await granted(bridge, 'devices/acl-a/up')).toBe(1);
    expect(await granted(bridge, 'devices/+/up')).toBe(1);
    for (const f of ['#', 'devices/#', '+/+/+', 'application/+/device/+/event/up', '$share/g/devices/+/up', '$SYS/#'])
      expect(await granted(bridge, f), f).toBe(128);
    const seen = new Promise<string>((r) => bridge.once('message', (t) => r(t)));
    const { client: gauge } = await connect(await cred('gauge-a2', ['devices/acl-a/up']));
    await publish(gauge, 'devices/acl-a/up', { readings: { level_cm: 2 } });
    expect(await seen).toBe('devices/acl-a/up');
    gauge.end(true);
    bridge.end(true);
  });

  it('a credential cannot be given # or $share subscribe rights', async () => {
    for (const f of ['#', '+/#', '$share/g/devices/+/up']) {
      const r = await s.api('POST', '/api/v1/mqtt-credentials', { username: 'greedy', publish: ['devices/acl-a/up'], subscribe: [f] });
      expect(r.status, f).toBe(400);
    }
  });
});

describe('a municipality’s integrator', () => {
  let giessen: string;
  const as = (method: string, p: string, body?: unknown) => s.api(method, p, body, giessen);
  beforeAll(async () => {
    giessen = (await s.ok('POST', '/api/v1/tokens', { name: 'Integrator Gießen', role: 'integrator', org: 'giessen' })).token;
  });

  it('cannot grant # or + in place of a device, nor another municipality’s devices', async () => {
    for (const [publish, subscribe] of [
      [['#'], []],
      [['devices/+/up'], []],
      [['+/w-1/up'], []],
      [['devices/w-1/up'], []],
      [[`application/+/device/${EUI_W.toLowerCase()}/event/up`], []],
      [['v3/+/devices/w-1/up'], []],
      [['devices/g-1/up'], ['devices/w-1/up']],
    ]) {
      const r = await as('POST', '/api/v1/mqtt-credentials', { username: 'g-sneaky', publish, subscribe });
      expect(r.status, JSON.stringify({ publish, subscribe })).toBe(403);
    }
  });

  it('creates credentials for its own devices, sees only those, and cannot delete another’s', async () => {
    const r = await as('POST', '/api/v1/mqtt-credentials', { username: 'g-gauges', publish: ['devices/g-1/up', 'v3/+/devices/g-2/up'] });
    expect(r.status).toBe(201);
    expect(r.body.org).toBe('giessen');
    await cred('installation-gw', ['devices/+/up']);
    expect((await as('GET', '/api/v1/mqtt-credentials')).body.items.map((c: { username: string }) => c.username)).toEqual(['g-gauges']);
    expect((await as('DELETE', '/api/v1/mqtt-credentials/installation-gw')).status).toBe(404);
    const { client } = await connect(r.body);
    await publish(client, 'devices/g-1/up', { time: new Date(Date.now() - 1000).toISOString(), readings: { level_cm: 3 } });
    client.end(true);
    expect((await s.ok('GET', '/api/v1/devices/g-1/readings?metric=level_cm')).points).toHaveLength(1);
  });

  it('loses a device when it goes to another municipality: its publish is refused, nothing stored', async () => {
    const c = (await as('POST', '/api/v1/mqtt-credentials', { username: 'g-two', publish: ['devices/g-2/up'] })).body;
    await s.ok('PATCH', '/api/v1/devices/g-2', { org: 'wetzlar' }); // the installation hands the gauge over
    const { client } = await connect(c);
    const r = await Promise.race([
      publish(client, 'devices/g-2/up', { readings: { level_cm: 666 } }).then(
        () => 'acked',
        () => 'refused',
      ),
      closed(client).then(() => 'refused'),
    ]);
    client.end(true);
    expect(r).toBe('refused');
    expect((await s.ok('GET', '/api/v1/devices/g-2/readings?metric=level_cm')).points).toEqual([]);
    const rej = await waitFor(
      async () => (await s.ok('GET', '/api/v1/rejected-uplinks?reason=acl_denied')).items.find((x: { payload: string }) => x.payload.includes('666')),
      5000,
      'acl_denied',
    );
    expect(rej.topic).toBe('devices/g-2/up');
  });
});

describe('client ids', () => {
  it('belong to the credential that first used them: another credential is refused (CONNACK 5), the same one takes over', async () => {
    const a = await cred('owner-a', ['devices/acl-a/up']);
    const b = await cred('intruder-b', ['devices/acl-a/up']);
    const first = await connect(a, { clientId: 'pegel-lahn-01' });
    expect(first.code).toBeUndefined();
    const intruder = await connect(b, { clientId: 'pegel-lahn-01' });
    intruder.client.end(true);
    expect(intruder.code).toBe(5);
    expect(first.client.connected).toBe(true);
    await publish(first.client, 'devices/acl-a/up', { readings: { level_cm: 4 } });
    const again = await connect(a, { clientId: 'pegel-lahn-01' });
    expect(again.code).toBeUndefined();
    await closed(first.client); // taken over by its own credential [MQTT-3.1.4-2]
    again.client.end(true);
    first.client.end(true);
  });
});

describe('deleting or rotating a credential', () => {
  it('delete closes its open connections; it cannot log in again', async () => {
    const c = await cred('to-delete', ['devices/acl-a/up']);
    const { client } = await connect(c);
    expect(client.connected).toBe(true);
    expect((await s.api('DELETE', '/api/v1/mqtt-credentials/to-delete')).status).toBe(204);
    await waitFor(() => !client.connected, 5000, 'disconnect after delete');
    client.end(true);
    expect((await connect(c)).code).toBe(4);
  });

  it('rotate closes connections made with the old password; the new one works, the old one does not', async () => {
    const c = await cred('to-rotate', ['devices/acl-a/up']);
    const { client } = await connect(c, { clientId: 'rotating-gauge' });
    const r = await s.ok('POST', '/api/v1/mqtt-credentials/to-rotate/rotate');
    expect(r.password).not.toBe(c.password);
    await waitFor(() => !client.connected, 5000, 'disconnect after rotate');
    client.end(true);
    const old = await connect(c);
    old.client.end(true);
    expect(old.code).toBe(4);
    const fresh = await connect({ username: c.username, password: r.password }, { clientId: 'rotating-gauge' });
    expect(fresh.code).toBeUndefined();
    await publish(fresh.client, 'devices/acl-a/up', { readings: { level_cm: 5 } });
    fresh.client.end(true);
  });
});

describe.skipIf(!TEST_DATABASE_URL && !REQUIRE_EXTERNAL)('ROLES split: the API in one process, the broker in another', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let api: TestSystem;
  let broker: TestSystem;
  beforeAll(async () => {
    db = await freshPgDatabase();
    api = await startSystem({ databaseUrl: db!.url, env: { ROLES: 'api', MQTT_PORT: 'off' } });
    broker = await startSystem({ databaseUrl: db!.url, env: { ROLES: 'broker,ingest' } });
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
    await api?.close();
    await db?.drop();
  });

  it('rotating and deleting through the API process close the connections held by the broker process', async () => {
    const login = (c: Cred) =>
      new Promise<MqttClient | false>((res) => {
        const m = mqtt.connect(broker.mqttUrl!, { username: c.username, password: c.password, reconnectPeriod: 0 });
        m.once('connect', () => res(m));
        m.once('error', () => res(false));
      });
    const c = await api.ok('POST', '/api/v1/mqtt-credentials', { username: 'split-rot', publish: ['devices/x/up'] });
    const first = await waitFor(() => login(c), 8000, 'credential known to the broker process');
    const { password } = await api.ok('POST', '/api/v1/mqtt-credentials/split-rot/rotate');
    await waitFor(() => !first.connected, 8000, 'connection closed after rotate');
    first.end(true);
    const fresh = await waitFor(() => login({ ...c, password }), 8000, 'new password works');
    await api.ok('DELETE', '/api/v1/mqtt-credentials/split-rot');
    await waitFor(() => !fresh.connected, 8000, 'connection closed after delete');
    fresh.end(true);
  }, 40_000);
});
