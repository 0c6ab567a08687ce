// npx tsx bench/console-screenshots.ts [--only phone.png] — the README's console screenshots (docs/img/): a Landkreis with two
// municipalities, a day of readings and a storm in the last hour, published over MQTT into a real
// Regenwacht (embedded store, no map tiles), then photographed in chromium.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { startRegenwacht } from '../services/app.ts';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/img');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-shots-'));
const admin = crypto.randomBytes(24).toString('hex');
// the system's clock follows the replayed day, so alarms start when their readings came; real time afterwards
const DAY_START = Math.floor(Date.now() / 300_000) * 300_000 - 288 * 300_000;
let clock: number | undefined = DAY_START; // the engine's clock only moves forward: start it at the replayed day's beginning
const r = await startRegenwacht(
  { dataDir: dir, httpPort: 0, mqttPort: 0, adminToken: admin, env: { PATH: process.env.PATH, MAP_TILES_URL: 'none' }, now: () => clock ?? Date.now() },
  pino({ level: 'warn' }),
);
const api = async (method: string, p: string, body?: unknown) => {
  const res = await fetch(r.httpUrl + p, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
};
try {
  const PW = 'screenshot-passwort';
  await api('POST', '/api/v1/users', { login: 'leitstelle', name: 'Leitstelle Landkreis', role: 'operator', password: PW });
  const stations = [
    ['gi-pegel-lahn', 'Pegel Lahn Gießen', 'giessen', 50.585, 8.667, 'level'],
    ['gi-wieseck', 'Pegel Wieseck Am Ursulum', 'giessen', 50.595, 8.695, 'level'],
    ['gi-nord', 'Regenschreiber Gießen-Nord', 'giessen', 50.605, 8.68, 'rain'],
    ['gi-rathaus', 'Regenschreiber Rathaus', 'giessen', 50.583, 8.678, 'rain'],
    ['gi-klein-linden', 'Regenschreiber Klein-Linden', 'giessen', 50.562, 8.65, 'rain'],
    ['gi-allendorf', 'Regenschreiber Allendorf', 'giessen', 50.553, 8.62, 'rain'],
    ['gi-lahnwiesen', 'Pegel Lahnwiesen', 'giessen', 50.574, 8.655, 'level'],
    ['wz-dill', 'Pegel Dill Wetzlar', 'wetzlar', 50.56, 8.505, 'level'],
    ['wz-garbenheim', 'Regenschreiber Garbenheim', 'wetzlar', 50.565, 8.54, 'rain'],
    ['wz-naunheim', 'Regenschreiber Naunheim', 'wetzlar', 50.58, 8.49, 'rain'],
    ['wz-hermannstein', 'Regenschreiber Hermannstein', 'wetzlar', 50.575, 8.47, 'rain'],
    ['wz-dutenhofen', 'Pegel Dutenhofen', 'wetzlar', 50.565, 8.58, 'level'],
  ] as const;
  for (const [id, name, org, lat, lon, type] of stations)
    await api('POST', '/api/v1/devices', { id, name, model: 'generic', org, location: { lat, lon }, tags: { type } });
  for (const org of ['giessen', 'wetzlar']) {
    await api('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { tags: { type: 'rain' } }, org });
    await api('POST', '/api/v1/rules', { preset: 'pegel-meldestufen', thresholds: [150, 200, 250], scope: { tags: { type: 'level' } }, org });
    await api('POST', '/api/v1/rules', {
      name: 'Sensorausfall',
      kind: 'offline',
      scope: { tags: { type: 'rain' } },
      levels: [{ severity: 'minor', window: '45m' }],
      org,
    });
  }
  const cred = await api('POST', '/api/v1/mqtt-credentials', { username: 'shots', publish: ['devices/+/up'] });
  const c = mqtt.connect(r.mqttUrl!, { username: cred.username, password: cred.password });
  await new Promise((res) => c.once('connect', res));
  const pub = (id: string, body: unknown) =>
    new Promise<void>((res, rej) => c.publish(`devices/${id}/up`, JSON.stringify(body), { qos: 1 }, (e) => (e ? rej(e) : res())));

  const now = Math.floor(Date.now() / 300_000) * 300_000;
  const N = 288; // a day of 5-minute readings
  const storm = (k: number, peak: number) => (k > N - 14 ? peak * Math.sin(((k - (N - 14)) / 14) * Math.PI) : 0);
  const rnd = (seed: number) => () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const r0 = rnd(7);
  const rainPeak: Record<string, number> = {
    'gi-nord': 4.2,
    'gi-rathaus': 2.6,
    'gi-klein-linden': 1.6,
    'gi-allendorf': 0.6,
    'wz-garbenheim': 2.2,
    'wz-naunheim': 0.5,
  };
  const levelEnd: Record<string, number> = { 'gi-pegel-lahn': 218, 'gi-wieseck': 162, 'gi-lahnwiesen': 120, 'wz-dill': 140, 'wz-dutenhofen': 95 };
  const series = new Map<string, { time: string; readings: Record<string, number> }[]>();
  for (const [id, , , , , type] of stations) {
    if (id === 'wz-hermannstein') continue; // silent since yesterday: grey on the map
    const points = [];
    for (let k = 0; k < N; k++) {
      const time = new Date(now - (N - 1 - k) * 300_000).toISOString();
      if (type === 'rain') {
        const v = Math.round((storm(k, rainPeak[id] ?? 0) + (k > 100 && k < 130 ? r0() * 0.3 : 0)) * 10) / 10;
        points.push({ time, readings: { rain_mm: v, battery_v: 3.6 - k * 0.0003, rssi_dbm: -95 - Math.round(r0() * 10), snr_db: Math.round(r0() * 80) / 10 } });
      } else {
        const end = levelEnd[id] ?? 100;
        const base = 80 + (end - 80) * Math.max(0, (k - 180) / (N - 180)) ** 1.6;
        const v = Math.round((base + (r0() - 0.5) * 3) * 10) / 10;
        points.push({ time, readings: { level_cm: k === 230 && id === 'gi-pegel-lahn' ? 4200 : v, battery_v: 3.55 } });
      }
    }
    series.set(id, points);
  }
  // the day in steps of 30 minutes, all stations side by side
  for (let k = 0; k < N; k += 6) {
    clock = now - (N - 1 - Math.min(N - 1, k + 5)) * 300_000;
    for (const [id, points] of series) await pub(id, points.slice(k, k + 6));
    await new Promise((res) => setTimeout(res, 30));
    await r.alerting?.settle();
    await r.alerting?.tick();
  }
  const hermann = Array.from({ length: 12 }, (_, k) => ({ time: new Date(now - 30 * 3_600_000 + k * 300_000).toISOString(), readings: { rain_mm: 0 } }));
  await pub('wz-hermannstein', hermann);
  c.end();
  await new Promise((res) => setTimeout(res, 1000));
  clock = undefined;
  await r.alerting?.settle();
  await r.alerting?.tick();
  await r.alerting?.settle();
  const open = (await api('GET', '/api/v1/alarms')).items as { id: string; deviceId: string; startedAt: string }[];
  const wieseck = open.find((a) => a.deviceId === 'gi-wieseck');
  if (wieseck) await api('POST', `/api/v1/alarms/${wieseck.id}/ack`, { comment: 'Bauhof informiert' });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // --only phone.png: just that one (the others stay as they are)
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const shot = async (name: string, o: { width: number; height: number; mobile?: boolean; url: string; dark?: boolean; wait?: string; full?: boolean }) => {
    if (only && only !== name) return;
    const ctx = await browser.newContext({
      viewport: { width: o.width, height: o.height },
      isMobile: o.mobile,
      hasTouch: o.mobile,
      locale: 'de-DE',
      colorScheme: o.dark ? 'dark' : 'light',
      deviceScaleFactor: 1,
    });
    const page = await ctx.newPage();
    await page.goto(`${r.httpUrl}/login`);
    // by the fields' labels, as a person finds them (and as test/helpers/browser.ts logs in)
    await page.getByLabel(/Benutzername|User name/).fill('leitstelle');
    await page.getByLabel(/^(Passwort|Password)$/).fill(PW);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.locator('button[type=submit]').first().click()]);
    await page.goto(r.httpUrl + o.url);
    if (o.wait) await page.locator(o.wait).first().waitFor();
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUT, name), fullPage: o.full });
    console.log(`docs/img/${name}`);
    await ctx.close();
  };
  fs.mkdirSync(OUT, { recursive: true });
  await shot('lagebild.png', { width: 1400, height: 860, url: '/', wait: '[data-station]' });
  await shot('station.png', { width: 1200, height: 1000, url: '/stations/gi-pegel-lahn?range=24h', wait: '[data-drawn]', full: true });
  await shot('station-rain.png', { width: 1200, height: 900, url: '/stations/gi-nord?range=6h', wait: '[data-drawn]' });
  await shot('phone.png', { width: 390, height: 844, mobile: true, url: '/', wait: '[data-station]' });
  await shot('wall.png', { width: 1600, height: 900, url: '/?wall=1', wait: '[data-station]', dark: true });
  await browser.close();
} finally {
  await r.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
