// [docs/api.md] The HTTP API as operators and integrators meet it: auth, roles, error format, audit, health.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem, waitFor } from '../../test/helpers/system.ts';

let s: TestSystem;
const tokens: Record<string, string> = {};
const as = (role: string) => (method: string, p: string, body?: unknown) => s.api(method, p, body, tokens[role]);

beforeAll(async () => {
  s = await startSystem({ store: 'pglite' });
  for (const role of ['operator', 'responder', 'integrator', 'viewer']) {
    const r = await s.api('POST', '/api/v1/tokens', { name: `${role}-anna`, role });
    expect(r.status).toBe(201);
    expect(r.body.token).toEqual(expect.any(String));
    tokens[role] = r.body.token;
  }
});
afterAll(() => s?.close());

describe('authentication', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer rw_not-a-real-token'],
    ['a Basic credential', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s with 401 UNAUTHORIZED', async (_what, header) => {
    const res = await fetch(`${s.httpUrl}/api/v1/devices`, { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(body.error.message).toEqual(expect.any(String));
  });

  it('accepts each issued token', async () => {
    for (const role of Object.keys(tokens)) expect((await as(role)('GET', '/api/v1/devices')).status, role).toBe(200);
  });
});

describe('roles', () => {
  it.each([
    ['viewer', 'POST', '/api/v1/devices', { id: 'v-dev', name: 'x', model: 'generic' }],
    ['viewer', 'POST', '/api/v1/mqtt-credentials', { username: 'v-cred', publish: ['devices/+/up'] }],
    ['viewer', 'GET', '/api/v1/audit', undefined],
    [
      'integrator',
      'POST',
      '/api/v1/rules',
      { name: 'r', kind: 'threshold', metric: 'level_cm', scope: { deviceIds: ['x'] }, levels: [{ severity: 'moderate', threshold: 1 }] },
    ],
    ['integrator', 'POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
    ['responder', 'POST', '/api/v1/routes', { name: 'r', match: { minSeverity: 'moderate' }, targets: [{ type: 'sms', to: '+491701234567' }] }],
    ['responder', 'POST', '/api/v1/devices', { id: 'r-dev', name: 'x', model: 'generic' }],
    ['operator', 'POST', '/api/v1/tokens', { name: 'x', role: 'viewer' }],
    ['operator', 'POST', '/api/v1/mqtt-credentials', { username: 'o-cred', publish: ['devices/+/up'] }],
  ])('%s may not %s %s (403 FORBIDDEN)', async (role, method, p, body) => {
    const r = await as(role)(method, p, body);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
    expect(r.body.error.message).toContain(role);
  });

  it('nothing was created by the refused requests', async () => {
    const d = await s.ok('GET', '/api/v1/devices');
    expect(d.items.map((x: { id: string }) => x.id)).not.toContain('v-dev');
    expect(d.items.map((x: { id: string }) => x.id)).not.toContain('r-dev');
  });

  it('integrator registers devices and MQTT credentials; operator writes rules and routes; only admin makes tokens', async () => {
    expect((await as('integrator')('POST', '/api/v1/devices', { id: 'int-dev', name: 'Pegel', model: 'generic' })).status).toBe(201);
    expect((await as('integrator')('POST', '/api/v1/mqtt-credentials', { username: 'int-cred', publish: ['devices/int-dev/up'] })).status).toBe(201);
    expect(
      (await as('operator')('POST', '/api/v1/routes', { name: 'ops', match: { minSeverity: 'severe' }, targets: [{ type: 'sms', to: '+491701234567' }] }))
        .status,
    ).toBe(201);
    expect((await s.api('POST', '/api/v1/tokens', { name: 'another-admin', role: 'admin' })).status).toBe(201);
  });

  it('a responder acknowledges a firing alarm, a viewer may not', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'ack-gauge', name: 'Pegel Lahn', model: 'generic' });
    const rule = (await as('operator')('POST', '/api/v1/rules', {
      name: 'Pegel hoch',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds: ['ack-gauge'] },
      levels: [{ severity: 'moderate', threshold: 100 }],
    })) as { status: number; body: { id: string } };
    expect(rule.status).toBe(201);
    const c = await s.mqttClient(['devices/ack-gauge/up']);
    await publish(c, 'devices/ack-gauge/up', { readings: { level_cm: 150 } });
    c.end(true);
    const alarm = await waitFor(async () => (await s.ok('GET', '/api/v1/alarms?deviceId=ack-gauge')).items[0], 10_000, 'alarm');
    const denied = await as('viewer')('POST', `/api/v1/alarms/${alarm.id}/ack`, {});
    expect(denied.status).toBe(403);
    const ack = await as('responder')('POST', `/api/v1/alarms/${alarm.id}/ack`, { comment: 'Feuerwehr informiert' });
    expect(ack.status).toBe(200);
    expect(ack.body.state).toBe('acknowledged');
    expect(ack.body.acknowledgedBy).toBe('responder-anna');
    // the body is optional: a bare POST (no body, no content-type) acknowledges as well [docs/api.md]
    const bare = await fetch(`${s.httpUrl}/api/v1/alarms/${alarm.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${tokens.responder}` } });
    expect(bare.status, await bare.clone().text()).toBe(200);
    expect((await bare.json()).state).toBe('acknowledged');
    const empty = await fetch(`${s.httpUrl}/api/v1/alarms/${alarm.id}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.responder}`, 'content-type': 'application/json' },
    });
    expect(empty.status, await empty.clone().text()).toBe(200);
  });
});

describe('error format', () => {
  it('400 VALIDATION_FAILED lists every bad field by path', async () => {
    const r = await s.api('POST', '/api/v1/devices', {
      id: 'has space',
      name: '',
      model: 'no-such-model',
      location: { lat: 123, lon: 8 },
      params: { mountHeightMm: -5 },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    const paths = (r.body.error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.id', 'body.name', 'body.model', 'body.location.lat', 'body.params.mountHeightMm']));
  });

  it('400 for a bad query parameter names it', async () => {
    const r = await s.api('GET', '/api/v1/devices/int-dev/readings?metric=snowfall_cm');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain('querystring.metric');
  });

  it('400 for a body that is not JSON', async () => {
    const res = await fetch(`${s.httpUrl}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: '{"id":',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toEqual(expect.any(String));
  });

  it.each([
    ['GET', '/api/v1/devices/nope'],
    ['PATCH', '/api/v1/devices/nope'],
    ['DELETE', '/api/v1/devices/nope'],
    ['GET', '/api/v1/devices/nope/readings?metric=level_cm'],
    ['GET', '/api/v1/rules/nope'],
    ['GET', '/api/v1/alarms/999999'],
    ['GET', '/api/v1/no-such-thing'],
  ])('%s %s → 404 NOT_FOUND', async (method, p) => {
    const r = await s.api(method, p, method === 'PATCH' ? { name: 'x' } : undefined);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
  });

  it('409 CONFLICT for a duplicate device id, devEui or MQTT username', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'dup-1', name: 'a', model: 'dragino-ldds75', devEui: 'A84041000181C61A' });
    const sameId = await s.api('POST', '/api/v1/devices', { id: 'dup-1', name: 'b', model: 'generic' });
    expect([sameId.status, sameId.body.error.code]).toEqual([409, 'CONFLICT']);
    const sameEui = await s.api('POST', '/api/v1/devices', { id: 'dup-2', name: 'b', model: 'dragino-ldds75', devEui: 'a8-40-41-00-01-81-c6-1a' });
    expect([sameEui.status, sameEui.body.error.code]).toEqual([409, 'CONFLICT']);
    expect(sameEui.body.error.message).toContain('dup-1');
    await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'dup-cred', publish: ['devices/+/up'] });
    const sameUser = await s.api('POST', '/api/v1/mqtt-credentials', { username: 'dup-cred', publish: ['devices/+/up'] });
    expect([sameUser.status, sameUser.body.error.code]).toEqual([409, 'CONFLICT']);
  });
});

describe('secrets and audit', () => {
  it('stores API tokens hashed: no token text in api_tokens', async () => {
    const r = await s.api('POST', '/api/v1/tokens', { name: 'leak-check', role: 'viewer' });
    const rows = await s.ctx.db.query('select * from api_tokens');
    const dump = JSON.stringify(rows.rows);
    expect(rows.rows.length).toBeGreaterThanOrEqual(6);
    for (const t of [r.body.token, s.token, ...Object.values(tokens)]) {
      expect(dump).not.toContain(t);
      // nor a token's random part without its prefix
      expect(dump).not.toContain(t.replace(/^rw_/, ''));
    }
    const audit = JSON.stringify(await s.ctx.db.query('select * from audit_log'));
    expect(audit).not.toContain(r.body.token);
  });

  it('records device create, update and delete with the actor', async () => {
    const op = as('operator');
    expect((await op('POST', '/api/v1/devices', { id: 'aud-1', name: 'Pegel A', model: 'generic' })).status).toBe(201);
    expect((await op('PATCH', '/api/v1/devices/aud-1', { name: 'Pegel B' })).status).toBe(200);
    expect((await op('DELETE', '/api/v1/devices/aud-1')).status).toBe(204);
    const log = await op('GET', '/api/v1/audit?entity=device');
    expect(log.status).toBe(200);
    const mine = (log.body.items as { action: string; entityId: string; actor: string; at: string }[]).filter((e) => e.entityId === 'aud-1');
    expect(mine.map((e) => e.action).sort()).toEqual(['create', 'delete', 'update']);
    for (const e of mine) {
      expect(e.actor).toContain('operator-anna');
      expect(Number.isFinite(Date.parse(e.at))).toBe(true);
    }
  });
});

describe('devices', () => {
  it('PATCH changes only the fields given: tags and params stay', async () => {
    const op = as('operator');
    const body = { id: 'patch-1', name: 'Pegel P', model: 'dragino-ldds75', params: { mountHeightMm: 3000 }, tags: { river: 'lahn' } };
    expect((await op('POST', '/api/v1/devices', body)).status).toBe(201);
    const r = await op('PATCH', '/api/v1/devices/patch-1', { public: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'Pegel P', public: true, tags: { river: 'lahn' }, params: { mountHeightMm: 3000 } });
    const named = await op('PATCH', '/api/v1/devices/patch-1', { name: 'Pegel Q' });
    expect(named.body).toMatchObject({ name: 'Pegel Q', public: true, tags: { river: 'lahn' } });
  });
});

describe('routes', () => {
  it('PATCH changes only the fields given, the rest of the route stays', async () => {
    const op = as('operator');
    const created = await op('POST', '/api/v1/routes', {
      name: 'Bauhof',
      match: { minSeverity: 'severe' },
      targets: [{ type: 'sms', to: '+4915112345678', name: 'Meier' }],
      notifyOn: ['firing', 'resolved'],
      repeatEvery: '30m',
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const r = await op('PATCH', `/api/v1/routes/${id}`, { enabled: false, repeatEvery: '15m' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'Bauhof', enabled: false, repeatEvery: '15m', notifyOn: ['firing', 'resolved'], match: { minSeverity: 'severe' } });
    expect((await op('GET', `/api/v1/routes/${id}`)).body).toMatchObject({ enabled: false, targets: [{ type: 'sms', name: 'Meier' }] });
    const bad = await op('PATCH', `/api/v1/routes/${id}`, { repeatEvery: 'bald' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('body.repeatEvery');
    expect((await as('viewer')('PATCH', `/api/v1/routes/${id}`, { enabled: true })).status).toBe(403);
    expect((await op('PATCH', '/api/v1/routes/route_nope', { enabled: true })).status).toBe(404);
  });
});

describe('health, metrics, OpenAPI', () => {
  it('/healthz and /readyz are 200 without a token', async () => {
    const h = await fetch(`${s.httpUrl}/healthz`);
    expect(h.status).toBe(200);
    const r = await fetch(`${s.httpUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ database: true, broker: true });
  });

  it('/metrics is Prometheus text with request and ingest counters', async () => {
    const res = await fetch(`${s.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE \S+ counter$/m);
    expect(text).toMatch(/^# HELP /m);
  });

  it('/openapi.json describes the API', async () => {
    const res = await fetch(`${s.httpUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of [
      '/api/v1/devices',
      '/api/v1/devices/{id}/readings',
      '/api/v1/mqtt-credentials',
      '/api/v1/tokens',
      '/api/v1/rejected-uplinks',
      '/api/v1/rules',
      '/api/v1/alarms',
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('/readyz turns 503 when the database is gone (last: closes the store)', async () => {
    await s.ctx.db.close();
    const r = await fetch(`${s.httpUrl}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ database: false });
  });
});
