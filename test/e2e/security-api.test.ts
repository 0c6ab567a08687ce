// Issue 11 "HTTP API and data": what an anonymous client, a viewer or another municipality can and cannot do
// through the real HTTP API. docs/security.md lists each control with its test here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

let s: TestSystem;
const tk: Record<string, string> = {};
const as = (who: string) => (method: string, p: string, body?: unknown) => s.api(method, p, body, tk[who]);

beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  for (const role of ['operator', 'responder', 'integrator', 'viewer']) tk[role] = (await s.ok('POST', '/api/v1/tokens', { name: `${role}-x`, role })).token;
  for (const org of ['giessen', 'wetzlar']) tk[`${org}-admin`] = (await s.ok('POST', '/api/v1/tokens', { name: `${org}-admin`, role: 'admin', org })).token;
});
afterAll(() => s?.close());

describe('security headers', () => {
  it.each([
    ['GET', '/healthz', undefined, undefined],
    ['GET', '/no/such/route', undefined, undefined],
    ['GET', '/api/v1/devices', 'rw_made-up', undefined],
    ['GET', '/api/v1/devices', 'admin', undefined],
    ['POST', '/api/v1/devices', 'admin', { id: 'bad id!' }],
  ])('%s %s (token %s) carries nosniff and frame-ancestors none', async (method, p, who, body) => {
    const token = who === 'admin' ? s.token : who;
    const res = await fetch(s.httpUrl + p, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers that carry a secret (new token, MQTT password) are not stored by caches', async () => {
    for (const [p, body] of [
      ['/api/v1/tokens', { name: 'cache-test', role: 'viewer' }],
      ['/api/v1/mqtt-credentials', { username: 'cache-test', publish: ['devices/x/up'] }],
    ] as const) {
      const res = await fetch(s.httpUrl + p, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });
});

describe('tokens: list, revoke, expiry, last use', () => {
  it('GET /api/v1/tokens lists tokens with name, role, org, dates, and never a secret', async () => {
    const made = await s.ok('POST', '/api/v1/tokens', { name: 'leitstelle', role: 'responder' });
    expect((await s.api('GET', '/api/v1/devices', undefined, made.token)).status).toBe(200);
    const res = await fetch(`${s.httpUrl}/api/v1/tokens`, { headers: { authorization: `Bearer ${s.token}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(made.token);
    expect(text).not.toContain(s.token);
    expect(text).not.toMatch(/token_hash|"token"|"hash"/);
    const mine = JSON.parse(text).items.find((t: { id: number }) => t.id === made.id);
    expect(mine).toMatchObject({ name: 'leitstelle', role: 'responder', org: null, expiresAt: null, createdAt: expect.any(String) });
    // last use is written after the request, not in its way
    await waitFor(async () => (await s.ok('GET', '/api/v1/tokens')).items.find((t: { id: number }) => t.id === made.id).lastUsedAt, 8000, 'lastUsedAt');
  });

  it('a revoked token answers 401 at once and is no longer listed', async () => {
    const made = await s.ok('POST', '/api/v1/tokens', { name: 'leaked', role: 'operator' });
    expect((await s.api('GET', '/api/v1/devices', undefined, made.token)).status).toBe(200);
    expect((await s.api('DELETE', `/api/v1/tokens/${made.id}`)).status).toBe(204);
    const r = await s.api('GET', '/api/v1/devices', undefined, made.token);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
    expect((await s.ok('GET', '/api/v1/tokens')).items.map((t: { id: number }) => t.id)).not.toContain(made.id);
    expect((await s.api('DELETE', `/api/v1/tokens/${made.id}`)).status).toBe(404);
  });

  it('a token with expiresAt stops working then; one in the past is refused', async () => {
    const past = await s.api('POST', '/api/v1/tokens', { name: 'old', role: 'viewer', expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('VALIDATION_FAILED');
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const made = await s.ok('POST', '/api/v1/tokens', { name: 'short', role: 'viewer', expiresAt });
    expect(made.expiresAt).toBe(expiresAt);
    expect((await s.api('GET', '/api/v1/devices', undefined, made.token)).status).toBe(200);
    expect((await s.ok('GET', '/api/v1/tokens')).items.find((t: { id: number }) => t.id === made.id).expiresAt).toBe(expiresAt);
    await waitFor(async () => (await s.api('GET', '/api/v1/devices', undefined, made.token)).status === 401, 8000, 'the token to expire');
  });

  it("a municipality's admin lists and revokes only its municipality's tokens", async () => {
    const wz = await as('wetzlar-admin')('POST', '/api/v1/tokens', { name: 'wz-viewer', role: 'viewer' });
    expect(wz.status).toBe(201);
    const listed = (await as('giessen-admin')('GET', '/api/v1/tokens')).body.items;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((t: { org: string }) => t.org === 'giessen')).toBe(true);
    const r = await as('giessen-admin')('DELETE', `/api/v1/tokens/${wz.body.id}`);
    expect(r.status).toBe(404);
    expect((await s.api('GET', '/api/v1/devices', undefined, wz.body.token)).status).toBe(200);
    // nor the installation's own tokens
    const root = (await s.ok('GET', '/api/v1/tokens')).items.find((t: { name: string }) => t.name === 'bootstrap admin');
    expect((await as('giessen-admin')('DELETE', `/api/v1/tokens/${root.id}`)).status).toBe(404);
  });

  it.each(['operator', 'responder', 'integrator', 'viewer'])('%s may not list tokens', async (role) => {
    expect((await as(role)('GET', '/api/v1/tokens')).status).toBe(403);
  });

  it.each([
    ['responder', 403],
    ['viewer', 403],
    ['integrator', 200],
  ])('%s listing MQTT credentials: %i', async (role, status) => {
    expect((await as(role)('GET', '/api/v1/mqtt-credentials')).status).toBe(status);
  });
});

describe('numeric ids', () => {
  it.each([
    ['GET', '/api/v1/alarms/99999999999999999999'],
    ['GET', '/api/v1/alarms/9223372036854775808'],
    ['POST', '/api/v1/alarms/99999999999999999999/ack'],
    ['GET', '/api/v1/cap/alerts/99999999999999999999.xml'],
    ['DELETE', '/api/v1/tokens/99999999999999999999'],
    ['DELETE', '/api/v1/tokens/abc'],
  ])('%s %s beyond bigint answers 404, not 500', async (m, p) => {
    const r = await s.api(m, p, m === 'POST' ? {} : undefined);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
  });
});

// last: it uses up this address's budget of failed authentications
describe('made-up tokens', () => {
  it('get 429 after a burst, cost no database query each, and never lock out a valid token', async () => {
    let lookups = 0;
    const db = s.ctx.db;
    const query = db.query.bind(db);
    db.query = ((sql: string, params?: unknown[]) => {
      if (/api_tokens/.test(sql)) lookups++;
      return query(sql, params);
    }) as typeof db.query;
    const codes: number[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        const r = await fetch(`${s.httpUrl}/api/v1/devices`, { headers: { authorization: `Bearer rw_guess${i}` } });
        codes.push(r.status);
        await r.arrayBuffer();
      }
    } finally {
      db.query = query;
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(codes.slice(-10)).toEqual(Array(10).fill(429));
    // a miss reloads the token table at most once per 2 s, shared by every waiting request
    expect(lookups).toBeLessThan(10);
    expect((await s.api('GET', '/api/v1/devices')).status).toBe(200);
  });
});
