// The console's own JSON (the Lagebild's markers and popup, a station's charts) answers what its scripts read,
// through the response schemas in services/web/console-schemas.ts — with an open alarm, threshold lines and
// rain buckets in it. No browser: a session cookie from the login form. [issue 12]
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartsJson, latestJson, stationsJson } from '../../services/web/console-schemas.ts';
import { Clock, Harness, MIN } from '../helpers/alarms.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'regen-karte-2026';
let s: TestSystem;
let h: Harness;
let cookie = '';
let severity: string | undefined;
const clock = new Clock(Math.floor(Date.now() / MIN) * MIN);

/** logs in through the form as a browser would: the login page's CSRF token and cookie, then the session cookie */
async function logIn(login: string): Promise<string> {
  const g = await fetch(`${s.httpUrl}/login`);
  const pre = g.headers.getSetCookie().map((c) => c.split(';')[0]);
  const token = /name="_csrf" value="([^"]+)"/.exec(await g.text())?.[1] ?? '';
  const r = await fetch(`${s.httpUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: pre.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, password: PW, _csrf: token, next: '/' }),
  });
  expect(r.status).toBe(303);
  return r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .filter((c) => !c.endsWith('='))
    .join('; ');
}

const get = async (path: string) => {
  const r = await fetch(`${s.httpUrl}${path}`, { headers: { cookie } });
  expect(r.status, path).toBe(200);
  expect(r.headers.get('content-type'), path).toMatch(/^application\/json/);
  return r.json();
};

describe('the console JSON routes', () => {
  beforeAll(async () => {
    s = await startSystem({ store: 'pglite', now: clock.now, env: { MAP_TILES_URL: 'none' } });
    h = new Harness(s, clock);
    await s.ok('POST', '/api/v1/users', { login: 'lea', role: 'operator', name: 'Lea', password: PW });
    await h.device('gi-nord');
    await h.rule({ preset: 'dwd-starkregen', scope: { deviceIds: ['gi-nord'] } });
    await h.send('gi-nord', clock.t, { rain_mm: 28, level_cm: 150 });
    severity = (await h.alarms({ deviceId: 'gi-nord' }))[0]?.severity;
    cookie = await logIn('lea');
  });
  afterAll(async () => {
    h?.close();
    await s?.close();
  });

  it('/stations.json: the station with its open alarm', async () => {
    expect(severity).toBe('severe');
    const body = stationsJson.parse(await get('/stations.json'));
    expect(body.stations).toEqual([expect.objectContaining({ id: 'gi-nord', name: 'Pegel gi-nord', status: severity, openAlarms: 1 })]);
  });

  it('/stations/:id/charts.json: rain bars with the rule thresholds, the level line, the alarm period', async () => {
    const body = chartsJson.parse(await get('/stations/gi-nord/charts.json?range=24h'));
    const rain = body.charts.find((c) => c.metric === 'rain_mm');
    expect(rain?.kind).toBe('rain');
    expect(rain?.bars?.reduce((a, b) => a + b, 0)).toBeCloseTo(28);
    expect(rain?.lines.map((l) => l.value)).toContain(15);
    expect(rain?.alarms).toHaveLength(1);
    expect(body.charts.find((c) => c.metric === 'level_cm')?.kind).toBe('line');
    expect(body.lastSeen).not.toBeNull();
  });

  it('/stations/:id/latest.json: the newest value of each metric', async () => {
    const body = latestJson.parse(await get('/stations/gi-nord/latest.json'));
    expect(body.values).toMatchObject({ rain_mm: 28, level_cm: 150 });
    expect(body.lastSeen).toBeGreaterThan(0);
  });
});
