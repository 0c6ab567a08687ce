// npm run bench:backtest -- [--database-url URL] [--stations 20] [--days 30] [--runs 7] — the backtest preview of
// one rule over 30 days of 5-minute rain data for 20 stations (172,800 readings), through the HTTP API
// (POST /api/v1/rules/:id/backtest) and through the console's preview page (POST /rules/:id, action=preview:
// the current and the edited version side by side, charts and HTML), on PostgreSQL. Progress on stderr; the
// last stdout line is one JSON object. See docs/benchmarks.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { startRegenwacht } from '../services/app.ts';
import type { Queryable } from '../services/db/db.ts';
import { packedReadingsOf } from '../services/devices/readings.ts';

const { values: a } = parseArgs({
  options: {
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    stations: { type: 'string', default: '20' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '7' },
  },
});
const N = Number(a.stations);
const DAYS = Number(a.days);
const RUNS = Number(a.runs);
const say = (s: string) => process.stderr.write(`[bench-backtest] ${s}\n`);
/** CPU time of this process (the server and the small client) in ms: the machine's load does not inflate it as much as wall time */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const name = `rw_bench_bt_${crypto.randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: a['database-url'] });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(a['database-url']);
url.pathname = `/${name}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-bt-'));
const token = crypto.randomBytes(24).toString('hex');
const r = await startRegenwacht(
  { dataDir: dir, httpPort: 0, mqttPort: 'off', adminToken: token, databaseUrl: url.toString(), env: { PATH: process.env.PATH, MAP_TILES_URL: 'none' } },
  pino({ level: 'warn' }),
);
const api = async (method: string, p: string, body?: unknown) => {
  const res = await fetch(r.httpUrl + p, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
};

try {
  for (let k = 0; k < N; k++)
    await api('POST', '/api/v1/devices', {
      id: `rain-${k}`,
      name: `Regenschreiber ${k}`,
      model: 'generic',
      tags: { type: 'rain' },
      location: { lat: 50.5, lon: 8.6 },
    });
  const now = Math.floor(Date.now() / 300_000) * 300_000;
  const from = now - DAYS * 86_400_000;
  // every 5 minutes, per station: dry mostly, a 1-hour shower of 2.5 mm per block now and then (a few alarms)
  const t0 = Date.now();
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  await db.query(
    `insert into readings(time, device_id, metric, value, quality)
     select t, 'rain-' || s, 'rain_mm', case when ((extract(epoch from t)::bigint / 300) + s * 37) % 1500 < 12 then 2.5 else 0 end, 0
     from generate_series(0, $1::int - 1) s, generate_series($2::timestamptz, $3::timestamptz, interval '5 minutes') t`,
    [N, new Date(from), new Date(now)],
  );
  const count = Number((await db.query('select count(*) as n from readings')).rows[0].n);
  await db.end();
  say(`${count} readings of ${N} stations over ${DAYS} days stored in ${Date.now() - t0} ms`);
  const rule = await api('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { tags: { type: 'rain' } } });

  // the HTTP API
  // the stored readings alone, as the backtest reads them (PostgreSQL's share of the time, and the driver's)
  const sqlMs: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const q = new pg.Client({ connectionString: url.toString() });
    await q.connect();
    const s = performance.now();
    await packedReadingsOf(
      q as unknown as Queryable,
      Array.from({ length: N }, (_, i) => `rain-${i}`),
      'rain_mm',
      new Date(from - 6 * 3_600_000),
      new Date(now),
    );
    sqlMs.push(performance.now() - s);
    await q.end();
  }
  const apiMs: number[] = [];
  const apiCpu: number[] = [];
  let alarms = 0;
  for (let k = 0; k < RUNS; k++) {
    const s = performance.now();
    const c = process.cpuUsage();
    const b = await api('POST', `/api/v1/rules/${rule.id}/backtest`, { from: new Date(from).toISOString(), to: new Date(now).toISOString() });
    apiCpu.push(cpuMs(process.cpuUsage(c)));
    apiMs.push(performance.now() - s);
    alarms = b.alarms.length;
  }
  say(`SQL alone: ms ${sqlMs.map((x) => x.toFixed(0)).join(' ')}`);
  say(`API backtest: ${alarms} alarms; wall ms ${apiMs.map((x) => x.toFixed(0)).join(' ')}; CPU ms ${apiCpu.map((x) => x.toFixed(0)).join(' ')}`);

  // the console: log in as an operator, then preview an edit of the rule over the last 30 days (two backtests)
  await api('POST', '/api/v1/users', { login: 'bench', name: 'Bench', role: 'operator', org: 'default', password: 'regen-vorschau-2026' });
  const pre = await fetch(`${r.httpUrl}/login`);
  const preCookie = (pre.headers.get('set-cookie') ?? '').split(';')[0];
  const preToken = /name="_csrf" value="([^"]+)"/.exec(await pre.text())?.[1] ?? '';
  const login = await fetch(`${r.httpUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: preCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: preToken, login: 'bench', password: 'regen-vorschau-2026', next: '/' }),
  });
  const session = (login.headers.getSetCookie().find((c) => c.startsWith('rw_session=')) ?? '').split(';')[0];
  const page = await (await fetch(`${r.httpUrl}/rules/${rule.id}`, { headers: { cookie: session } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const form = new URLSearchParams({
    _csrf: csrf,
    source: 'preset',
    preset: 'dwd-starkregen',
    name: 'DWD Starkregen',
    scope_by: 'tags',
    'scope.tags': 'type=rain',
    for: '0m',
    'clear.for': '30m',
    'clear.hysteresis': '0',
    mode: 'active',
    period: '30d',
    action: 'preview',
  });
  const webMs: number[] = [];
  const webCpu: number[] = [];
  let bytes = 0;
  for (let k = 0; k < RUNS; k++) {
    const s = performance.now();
    const c = process.cpuUsage();
    const res = await fetch(`${r.httpUrl}/rules/${rule.id}`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    const html = await res.text();
    webCpu.push(cpuMs(process.cpuUsage(c)));
    webMs.push(performance.now() - s);
    if (res.status !== 200 || !html.includes('id="preview"')) throw new Error(`preview page: ${res.status}`);
    bytes = html.length;
  }
  say(
    `console preview (current + edited version): ${(bytes / 1024).toFixed(0)} KiB; wall ms ${webMs.map((x) => x.toFixed(0)).join(' ')}; CPU ms ${webCpu.map((x) => x.toFixed(0)).join(' ')}`,
  );
  const out = {
    stations: N,
    days: DAYS,
    readings: count,
    alarms,
    sqlMedianMs: Math.round(median(sqlMs)),
    apiMedianMs: Math.round(median(apiMs)),
    apiCpuMedianMs: Math.round(median(apiCpu)),
    apiMaxMs: Math.round(Math.max(...apiMs)),
    consolePreviewMedianMs: Math.round(median(webMs)),
    consolePreviewCpuMedianMs: Math.round(median(webCpu)),
    consolePreviewMaxMs: Math.round(Math.max(...webMs)),
    consolePageKiB: Math.round(bytes / 1024),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    cpus: os.cpus().length,
  };
  console.log(JSON.stringify(out));
} finally {
  await r.stop();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
  fs.rmSync(dir, { recursive: true, force: true });
}
