// [docs/api.md Rules, Errors] Rule bodies through the HTTP API without a port or a database (app.inject on
// fakes): a wrong rule is refused with the error format and every problem by its path, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, fakeApi } from '../../test/helpers/api-app.ts';

let api: FakeApi;
beforeAll(async () => {
  api = await fakeApi();
});
afterAll(() => api?.app.close());

const rule = {
  name: 'Starkregen Gießen-Nord',
  kind: 'accumulation',
  metric: 'rain_mm',
  scope: { deviceIds: ['gauge-01'] },
  levels: [
    { severity: 'severe', window: '1h', threshold: 25, strict: true },
    { severity: 'moderate', window: '1h', threshold: 15 },
  ],
};
const stored = () => api.sql.filter((s) => /insert into (rules|audit_log)/.test(s));

describe('POST /api/v1/rules', () => {
  it.each([
    ['an unknown kind', { ...rule, kind: 'sum' }, 'kind'],
    ['a level without a threshold', { ...rule, levels: [{ severity: 'moderate', window: '1h' }] }, 'levels'],
    ['a bad duration', { ...rule, levels: [{ severity: 'moderate', window: '1h30m', threshold: 15 }] }, 'levels.0.window'],
    ['no scope', { ...rule, scope: undefined }, 'scope'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field, and stores nothing', async (_what, body, path) => {
    const before = stored().length;
    const r = await api.call('POST', '/api/v1/rules', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.message).toContain(path);
    expect(r.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining(path), message: expect.any(String) })]),
    );
    expect(stored().length).toBe(before);
  });

  it('refuses a misspelt field by its name, and stores nothing', async () => {
    const r = await api.call('POST', '/api/v1/rules', { ...rule, treshold: 15 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.message).toContain('treshold');
    expect(stored()).toEqual([]);
  });

  it('refuses a body that is not an object', async () => {
    const r = await api.call('POST', '/api/v1/rules', ['not', 'a', 'rule']);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a viewer with 403 FORBIDDEN before looking at the body', async () => {
    const r = await api.call('POST', '/api/v1/rules', { nonsense: true }, 'viewer');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
  });

  it('creates a valid rule: 201 with its id, municipality and levels in severity order, stored with its audit row', async () => {
    const r = await api.call('POST', '/api/v1/rules', rule, 'operator');
    expect(r.status).toBe(201);
    expect(r.body.id).toMatch(/^rule_/);
    expect(r.body.org).toBe('default');
    expect(r.body.levels.map((l: { severity: string; windowMs: number }) => [l.severity, l.windowMs])).toEqual([
      ['moderate', 3_600_000],
      ['severe', 3_600_000],
    ]);
    expect(stored().some((s) => s.startsWith('insert into rules'))).toBe(true);
    expect(stored().some((s) => s.startsWith('insert into audit_log'))).toBe(true);
    const got = await api.call('GET', `/api/v1/rules/${r.body.id}`, undefined, 'viewer');
    expect(got.body).toEqual(r.body);
  });

  it('expands a preset into its DWD levels', async () => {
    const r = await api.call('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { tags: { river: 'lahn' } } });
    expect(r.status).toBe(201);
    expect(r.body.preset).toBe('dwd-starkregen');
    expect(r.body.levels.length).toBeGreaterThanOrEqual(3);
  });
});
