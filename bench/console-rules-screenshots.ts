// npx tsx bench/console-rules-screenshots.ts — the README's screenshots of the rules, routes and silences pages
// (docs/img/rule-preview.png, routes.png, silence.png): three rain gauges of Gießen with an Euler II storm
// stored three days ago and another one in the last hours, an operator previewing a DWD rule over them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { designStorm } from '../firmware-sim/scenarios/euler2.ts';
import { BUILTIN_CELLS } from '../firmware-sim/scenarios/kostra.ts';
import { startRegenwacht } from '../services/app.ts';
import { startServer } from '../services/notify/test-server.ts';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/img');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-rule-shots-'));
const admin = crypto.randomBytes(24).toString('hex');
const r = await startRegenwacht(
  { dataDir: dir, httpPort: 0, mqttPort: 0, adminToken: admin, env: { PATH: process.env.PATH, MAP_TILES_URL: 'none' } },
  pino({ level: 'warn' }),
);
const hook = await startServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{}');
});
const api = async (method: string, p: string, body?: unknown) => {
  const res = await fetch(r.httpUrl + p, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
};
const MIN = 60_000;
// KOSTRA T=10 Euler II in 5-min blocks [docs/reference/domain.md S1]
// KOSTRA T=10 Euler II from the firmware simulator's design storm (one source of truth)
const EULER2 = designStorm(BUILTIN_CELLS['117111'], 10, 60).map((v) => Math.round(v * 1000) / 1000);
try {
  const PW = 'screenshot-passwort';
  await api('POST', '/api/v1/users', { login: 'leitstelle', name: 'Leitstelle Gießen', role: 'operator', org: 'giessen', password: PW });
  const gauges = [
    ['gi-nord', 'Regenschreiber Gießen-Nord', 1],
    ['gi-rathaus', 'Regenschreiber Rathaus', 0.8],
    ['gi-allendorf', 'Regenschreiber Allendorf', 0.4],
  ] as const;
  for (const [id, name] of gauges)
    await api('POST', '/api/v1/devices', { id, name, model: 'generic', org: 'giessen', tags: { type: 'rain' }, location: { lat: 50.6, lon: 8.68 } });
  const cred = await api('POST', '/api/v1/mqtt-credentials', { username: 'shots', publish: ['devices/+/up'] });
  const c = mqtt.connect(r.mqttUrl!, { username: cred.username, password: cred.password });
  await new Promise((res) => c.once('connect', res));
  const pub = (id: string, body: unknown) =>
    new Promise<void>((res, rej) => c.publish(`devices/${id}/up`, JSON.stringify(body), { qos: 1 }, (e) => (e ? rej(e) : res())));
  const storm = async (start: number) => {
    for (const [id, , f] of gauges)
      await pub(
        id,
        [...EULER2, ...Array(24).fill(0)].map((v, k) => ({
          time: new Date(start + (k + 1) * 5 * MIN).toISOString(),
          readings: { rain_mm: Math.round(v * f * 100) / 100 },
        })),
      );
  };
  await storm(Math.floor((Date.now() - 3 * 86_400_000) / (5 * MIN)) * 5 * MIN);
  const rule = await api('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['gi-nord', 'gi-rathaus'] }, org: 'giessen' });
  await api('POST', '/api/v1/routes', {
    name: 'Feuerwehr Gießen',
    match: { minSeverity: 'moderate' },
    targets: [
      { type: 'webhook', url: `${hook.url}/leitstelle`, secret: `whsec_${crypto.randomBytes(24).toString('base64')}` },
      { type: 'sms', to: '+4964120612345' },
    ],
    repeatEvery: '15m',
    org: 'giessen',
  });
  await storm(Math.floor(Date.now() / MIN) * MIN - 36 * 5 * MIN);
  await new Promise((res) => setTimeout(res, 1500));
  await r.alerting?.settle();
  const alarm = (await api('GET', '/api/v1/alarms?state=active')).items[0];

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, locale: 'de-DE' });
  await page.goto(`${r.httpUrl}/login`);
  await page.getByLabel(/Benutzername/).fill('leitstelle');
  await page.getByLabel(/^Passwort$/).fill(PW);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Anmelden' }).click()]);
  // editing the rule: Allendorf added, previewed over the last 7 days next to the current version
  await page.goto(`${r.httpUrl}/rules/${rule.id}`);
  await page.getByLabel(/Regenschreiber Allendorf/).check();
  await page.getByLabel('Zeitraum der Vorschau').selectOption('7d');
  await page.getByRole('button', { name: 'Vorschau berechnen' }).click();
  await page.locator('[data-chart][data-drawn="1"]').first().waitFor();
  await page.screenshot({ path: path.join(OUT, 'rule-preview.png'), fullPage: true });
  await page.goto(`${r.httpUrl}/routes`);
  await page.screenshot({ path: path.join(OUT, 'routes.png'), fullPage: true });
  if (alarm) {
    await page.goto(`${r.httpUrl}/silences?alarm=${alarm.id}`);
    await page.screenshot({ path: path.join(OUT, 'silence.png'), fullPage: true });
  }
  await page.goto(`${r.httpUrl}/rules`);
  await page.screenshot({ path: path.join(OUT, 'rules.png'), fullPage: true });
  await browser.close();
  c.end(true);
  console.log(`screenshots in ${OUT}`);
} finally {
  await hook.close();
  await r.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
