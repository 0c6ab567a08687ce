// --setup against an in-memory fake of the HTTP API: what it registers, and that a second run changes nothing.
import { describe, expect, it } from 'vitest';
import { simDevices } from './devices.ts';
import { createRng } from './prng.ts';
import { DEFAULT_SENSOR } from './sensor.ts';
import { publishFilters, RULE_NAME, runSetup, WEBHOOK_ROUTE_NAME } from './setup.ts';

function fakeApi(opts: { wrapLists?: boolean; noCredentialList?: boolean } = {}) {
  const store = {
    devices: new Map<string, unknown>(),
    creds: new Map<string, unknown>(),
    rotations: new Map<string, number>(),
    rules: [] as any[],
    routes: [] as any[],
  };
  const calls: string[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const list = (items: unknown[]) => (opts.wrapLists ? { items } : items);
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    const method = init.method ?? 'GET';
    calls.push(`${method} ${path}`);
    if ((init.headers as Record<string, string>).authorization !== 'Bearer tok') return json(401, { error: { code: 'UNAUTHORIZED', message: 'bad token' } });
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    if (method === 'POST' && path === '/api/v1/devices') {
      if (store.devices.has(body.id) || [...store.devices.values()].some((d: any) => d.devEui === body.devEui))
        return json(409, { error: { code: 'CONFLICT', message: 'exists' } });
      store.devices.set(body.id, body);
      return json(201, body);
    }
    if (method === 'GET' && path.startsWith('/api/v1/devices/')) {
      const d = store.devices.get(decodeURIComponent(path.split('/').at(-1)!));
      return d ? json(200, d) : json(404, { error: { code: 'NOT_FOUND', message: 'no device' } });
    }
    if (method === 'GET' && path === '/api/v1/mqtt-credentials') {
      return opts.noCredentialList
        ? json(403, { error: { code: 'FORBIDDEN', message: 'no' } })
        : json(200, list([...store.creds.entries()].map(([username, c]: [string, any]) => ({ username, publish: c.publish }))));
    }
    if (method === 'POST' && path.startsWith('/api/v1/mqtt-credentials/') && path.endsWith('/rotate')) {
      const username = decodeURIComponent(path.split('/').at(-2)!);
      if (!store.creds.has(username)) return json(404, { error: { code: 'NOT_FOUND', message: 'no credential' } });
      const n = (store.rotations.get(username) ?? 0) + 1;
      store.rotations.set(username, n);
      return json(200, { username, password: `pw-${username}-${n}` });
    }
    if (method === 'POST' && path === '/api/v1/mqtt-credentials') {
      if (store.creds.has(body.username)) return json(409, { error: { code: 'CONFLICT', message: 'exists' } });
      store.creds.set(body.username, body);
      return json(201, { username: body.username, password: `pw-${body.username}` });
    }
    if (path === '/api/v1/rules') {
      if (method === 'GET') return json(200, list(store.rules));
      store.rules.push({ id: `r${store.rules.length + 1}`, ...body });
      return json(201, store.rules.at(-1));
    }
    if (method === 'PATCH' && path.startsWith('/api/v1/rules/')) {
      const rule = store.rules.find((r) => r.id === path.split('/').at(-1));
      Object.assign(rule, body);
      return json(200, rule);
    }
    if (path === '/api/v1/routes') {
      if (method === 'GET') return json(200, list(store.routes));
      store.routes.push({ id: `rt${store.routes.length + 1}`, ...body });
      return json(201, store.routes.at(-1));
    }
    return json(404, { error: { code: 'NOT_FOUND', message: path } });
  }) as typeof fetch;
  return { store, calls, fetchImpl };
}

const input = (fetchImpl: typeof fetch, over: Record<string, unknown> = {}) => ({
  api: 'http://api.test/',
  token: 'tok',
  devices: simDevices('elsys-elt', 3),
  sensor: DEFAULT_SENSOR,
  rng: createRng('setup'),
  fetchImpl,
  webhook: 'https://hook.test/x',
  ...over,
});

describe('setup', () => {
  it.each([false, true])('registers devices, credentials, rule and route; twice changes nothing (wrapped lists: %s)', async (wrapLists) => {
    const api = fakeApi({ wrapLists });
    const first = await runSetup(input(api.fetchImpl));
    expect(first).toMatchObject({ devicesCreated: 3, devicesExisting: 0, ruleCreated: true, routesCreated: [WEBHOOK_ROUTE_NAME] });
    expect(first.credentials).toEqual({ username: 'sim-elsys-elt', password: 'pw-sim-elsys-elt' });

    const dev = api.store.devices.get('sim-elsys-elt-2') as any;
    expect(dev).toMatchObject({ model: 'elsys-elt', devEui: '5E55000000000002', params: { mountHeightMm: 3000, mmPerTip: 0.2 } });
    expect(Math.abs(dev.location.lat - 50.58)).toBeLessThan(0.05);
    expect(Math.abs(dev.location.lon - 8.67)).toBeLessThan(0.07);
    expect((api.store.creds.get('sim-elsys-elt') as any).publish).toContain('devices/sim-elsys-elt-1/up');
    expect(api.store.rules[0]).toMatchObject({
      name: RULE_NAME,
      preset: 'dwd-starkregen',
      scope: { deviceIds: ['sim-elsys-elt-1', 'sim-elsys-elt-2', 'sim-elsys-elt-3'] },
    });
    const route = api.store.routes[0];
    expect(route).toMatchObject({ match: { minSeverity: 'moderate' }, notifyOn: ['firing', 'escalated', 'deescalated', 'acknowledged', 'resolved'] });
    expect(route.targets[0]).toMatchObject({ type: 'webhook', url: 'https://hook.test/x', format: 'regenwacht' });
    expect(Buffer.from(route.targets[0].secret.replace(/^whsec_/, ''), 'base64')).toHaveLength(24);

    const second = await runSetup(input(api.fetchImpl, { username: 'given' }));
    expect(second).toMatchObject({ devicesCreated: 0, devicesExisting: 3, ruleCreated: false, routesCreated: [], ruleId: 'r1' });
    expect(second.credentials).toBeUndefined();
    expect(api.store.rules).toHaveLength(1);
    expect(api.store.routes).toHaveLength(1);
  });

  it('a second run without --username adds no MQTT credential: the earlier one (same ACL) gets a new password', async () => {
    const api = fakeApi();
    await runSetup(input(api.fetchImpl));
    const again = await runSetup(input(api.fetchImpl));
    expect(again.credentials).toEqual({ username: 'sim-elsys-elt', password: 'pw-sim-elsys-elt-1' });
    expect(api.store.creds.size).toBe(1);
  });

  it.each([false, true])('an existing MQTT username with another ACL gets a fresh suffix (list forbidden: %s)', async (noCredentialList) => {
    const api = fakeApi({ noCredentialList });
    await runSetup(input(api.fetchImpl));
    const again = await runSetup(input(api.fetchImpl, { devices: simDevices('elsys-elt', 4) }));
    expect(again.credentials!.username).toMatch(/^sim-elsys-elt-[0-9a-f]{6}$/);
    expect(api.store.creds.size).toBe(2);
  });

  it('more devices than the ACL can list get the sim application wildcards', () => {
    const f = publishFilters(simDevices('elsys-elt', 200));
    expect(f).toEqual(['application/5e55c0de-0000-4000-8000-0000000000a1/device/+/event/up', 'v3/regenwacht-sim@ttn/devices/+/up', 'devices/+/up']);
    expect(publishFilters(simDevices('elsys-elt', 33))).toHaveLength(99);
  });

  it('more gauges join the existing rule', async () => {
    const api = fakeApi();
    await runSetup(input(api.fetchImpl));
    const r = await runSetup(input(api.fetchImpl, { devices: simDevices('elsys-elt', 4) }));
    expect(r).toMatchObject({ devicesCreated: 1, devicesExisting: 3, ruleCreated: false, ruleUpdated: true });
    expect(api.store.rules).toHaveLength(1);
    expect(api.store.rules[0].scope.deviceIds).toEqual(['sim-elsys-elt-1', 'sim-elsys-elt-2', 'sim-elsys-elt-3', 'sim-elsys-elt-4']);
  });

  it('a DevEUI taken by a sim device of another model is a clear error', async () => {
    const api = fakeApi();
    await runSetup(input(api.fetchImpl));
    await expect(runSetup(input(api.fetchImpl, { devices: simDevices('dragino-sn50v3-count', 1) }))).rejects.toThrow(
      /DevEUI 5E55000000000001 already belongs to another device/,
    );
  });

  it('level sensors get no rain rule', async () => {
    const api = fakeApi();
    const r = await runSetup(input(api.fetchImpl, { devices: simDevices('dragino-ldds75', 2), webhook: undefined }));
    expect(r.ruleCreated).toBe(false);
    expect(api.calls.some((c) => c.includes('/rules'))).toBe(false);
  });

  it('a bad token is a clear error', async () => {
    const api = fakeApi();
    await expect(runSetup(input(api.fetchImpl, { token: 'nope' }))).rejects.toThrow(/HTTP 401 bad token \(is --token a valid API token\?\)/);
  });
});
