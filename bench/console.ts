// npx tsx bench/console.ts — the web console under the sizes of issue 13: Lagebild with 1 000 stations and
// 200 open alarms (server render, and interactive in chromium), a station page with 7 days of 5-minute
// data for 3 metrics, 200 open Server-Sent-Event clients (memory, ingest rate with and without them), and the refresh wave
// of 200 pages after one alarm change (cached vs. every request a cache miss).
// Progress on stderr; the last stdout line is one JSON object. Results: docs/benchmarks.md "Web console".
import { type ChildProcess, fork } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const say = (s: string) => process.stderr.write(`[console-bench] ${s}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 10) / 10;
};

// ---- child: N SSE clients held open, counting events ----
if (process.argv[2] === 'sse-clients') {
  // opens n clients on 'open', closes them on 'close', so the parent can alternate bursts with and without them
  const { url, cookie, n } = JSON.parse(process.argv[3]) as { url: string; cookie: string; n: number };
  let bytes = 0;
  let reqs: http.ClientRequest[] = [];
  const openAll = () => {
    let open = 0;
    for (let k = 0; k < n; k++) {
      const req = http.get(`${url}/events`, { headers: { cookie, accept: 'text/event-stream' }, agent: false }, (res) => {
        // as cheap as a client can be (it shares this machine's CPUs with the server): count bytes, look for
        // the greeting only until it came
        let greeted = false;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (!greeted && chunk.includes('event: hello')) {
            greeted = true;
            if (++open === n) process.send?.({ ev: 'open', n: open });
          }
        });
      });
      req.on('error', () => {});
      reqs.push(req);
    }
  };
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'open') openAll();
    if (m.cmd === 'close') {
      for (const r of reqs) r.destroy();
      reqs = [];
      setTimeout(() => process.send?.({ ev: 'closed' }), 300);
    }
    if (m.cmd === 'count') process.send?.({ ev: 'count', bytes });
    if (m.cmd === 'stop') {
      for (const r of reqs) r.destroy();
      process.exit(0);
    }
  });
} else {
  await main();
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      stations: { type: 'string', default: '1000' },
      alarms: { type: 'string', default: '200' },
      requests: { type: 'string', default: '100' },
      sse: { type: 'string', default: '200' },
      messages: { type: 'string', default: '20000' },
      // rounds of (burst without SSE clients, burst with them), alternating which comes first
      rounds: { type: 'string', default: '6' },
      // `sse`: only the SSE part (no render timings, no browser) — for repeating that measurement alone
      only: { type: 'string', default: 'all' },
    },
  });
  const N = Number(a.stations);
  const { startRegenwacht } = await import('../services/app.ts');
  const dbName = `rw_bench_console_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: a['database-url'] });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const u = new URL(a['database-url']!);
  u.pathname = `/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-console-bench-'));
  const token = crypto.randomBytes(24).toString('hex');
  const children: ChildProcess[] = [];
  const r = await startRegenwacht(
    {
      dataDir,
      databaseUrl: u.toString(),
      httpPort: 0,
      mqttPort: 0,
      adminToken: token,
      // all load comes from one address here: lift the per-address guards
      env: {
        PATH: process.env.PATH,
        MAP_TILES_URL: 'none',
        MQTT_MAX_PENDING_PER_ADDRESS: '100000',
        HTTP_RATE_LIMIT: '1000000',
        HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0',
      },
    },
    pino({ level: 'warn' }),
  );
  const out: Record<string, unknown> = { stations: N, openAlarms: Number(a.alarms), cpus: os.cpus().length, node: process.version };
  try {
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(r.httpUrl + p, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    // ---- setup, in bulk ----
    const db = r.ctx.db;
    await db.query(
      `insert into devices(id, name, model, location, org, tags)
       select 'st' || k, 'Station ' || k, 'generic', jsonb_build_object('lat', 50.3 + (k % 40) * 0.015, 'lon', 8.3 + (k / 40) * 0.02), 'org' || (k % 10), '{}'::jsonb
       from generate_series(0, $1 - 1) k`,
      [N],
    );
    await r.ctx.devices.reload();
    await db.query(
      `insert into uplinks(time, device_id, source) select now() - (k % 60) * interval '1 minute', 'st' || k, 'bench' from generate_series(0, $1 - 1) k`,
      [N],
    );
    await db.query(
      `insert into alarms(rule_id, rule_name, device_id, metric, severity, state, value, threshold, unit, window_label, mode, started_at, updated_at)
       select 'rule_bench', 'DWD Starkregen', 'st' || (k * 5 % $2), 'rain_mm', (array['minor','moderate','severe','extreme'])[1 + k % 4],
              case when k % 3 = 0 then 'acknowledged' else 'firing' end, 30 + k % 20, 25, 'mm', '1h', 'active', now() - k * interval '1 minute', now()
       from generate_series(0, $1 - 1) k`,
      [Number(a.alarms), N],
    );
    await db.query(
      `insert into readings(time, device_id, metric, value, quality)
       select now() - s * interval '5 minutes', 'st0', m, case m when 'level_cm' then 120 + 40 * sin(s / 50.0) when 'rain_mm' then greatest(0, 2 * sin(s / 7.0)) else 12 + s % 5 end, 0
       from generate_series(0, 7 * 288 - 1) s, unnest(array['level_cm', 'rain_mm', 'temperature_c']) m`,
    );
    await api('POST', '/api/v1/rules', { preset: 'pegel-meldestufen', thresholds: [150, 200, 250], scope: { deviceIds: ['st0'] }, org: 'org0' });
    await api('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['st0'] }, org: 'org0' });
    await api('POST', '/api/v1/users', { login: 'bench', role: 'operator', password: 'lage-passwort-1' });
    const form = await fetch(`${r.httpUrl}/login`);
    const pre = /rw_login=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const login = await fetch(`${r.httpUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `rw_login=${pre}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, login: 'bench', password: 'lage-passwort-1', next: '/' }).toString(),
    });
    const sid = /rw_session=([^;]+)/.exec(login.headers.getSetCookie().join(';'))?.[1];
    const cookie = `rw_session=${sid}`;
    say(`setup: ${N} stations, ${a.alarms} open alarms, 3 × ${7 * 288} readings on st0`);

    if (a.only !== 'sse') {
      // ---- server render ----
      const timeGets = async (p: string, n: number) => {
        const ms: number[] = [];
        let bytes = 0;
        for (let k = 0; k < n + 5; k++) {
          const t0 = performance.now();
          const res = await fetch(r.httpUrl + p, { headers: { cookie } });
          const body = await res.text();
          if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
          if (k >= 5) ms.push(performance.now() - t0); // the first 5 warm up
          bytes = body.length;
        }
        return { p50: pct(ms, 50), p95: pct(ms, 95), max: pct(ms, 100), kB: Math.round(bytes / 1024) };
      };
      out.lagebildMs = await timeGets('/', Number(a.requests));
      say(`Lagebild: ${JSON.stringify(out.lagebildMs)}`);
      out.boardMs = await timeGets('/board', Number(a.requests));
      out.stationsJsonMs = await timeGets('/stations.json', Number(a.requests));
      out.station7dMs = await timeGets('/stations/st0?range=7d', Math.round(Number(a.requests) / 2));
      say(`station 7 d: ${JSON.stringify(out.station7dMs)}`);

      // ---- refresh wave: after one alarm change every open Lagebild fetches /board and /stations.json ----
      // The same URL for all pages shares one cached render; a distinct (ignored) query per page makes every
      // request a cache miss, as before the cache. CPU of this process: server and fetching client together.
      const wave = async (distinct: boolean) => {
        await new Promise((res) => setTimeout(res, 1100)); // the cache entries of earlier requests have expired
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: Number(a.sse) }, async (_, k) => {
            for (const p of ['/board', '/stations.json'])
              await (await fetch(`${r.httpUrl}${p}${distinct ? `?page=${k}` : ''}`, { headers: { cookie } })).text();
          }),
        );
        const c = process.cpuUsage(c0);
        return { cpuMs: Math.round((c.user + c.system) / 1000), wallMs: Math.round(performance.now() - t0) };
      };
      out.refreshWave = { pages: Number(a.sse), uncached: [await wave(true), await wave(true)], cached: [await wave(false), await wave(false)] };
      say(`refresh wave: ${JSON.stringify(out.refreshWave)}`);

      // ---- chromium: navigation to a live, drawn Lagebild ----
      const { chromium } = await import('playwright-core');
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
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await ctx.addCookies([{ name: 'rw_session', value: sid!, url: r.httpUrl }]);
      const page = await ctx.newPage();
      const inter: number[] = [];
      const stationInter: number[] = [];
      for (let k = 0; k < 6; k++) {
        await page.goto(`${r.httpUrl}/`);
        await page.waitForFunction(
          () =>
            document.body.dataset.live === '1' && document.querySelector('[data-station],[data-cluster]') && document.querySelectorAll('#board tr').length > 1,
        );
        const ms = await page.evaluate(() => performance.now());
        if (k > 0) inter.push(ms); // the first loads the scripts into the cache
        await page.goto(`${r.httpUrl}/stations/st0?range=7d`);
        await page.waitForFunction(() => document.querySelectorAll('[data-drawn]').length >= 3);
        const ms2 = await page.evaluate(() => performance.now());
        if (k > 0) stationInter.push(ms2);
      }
      await browser.close();
      out.lagebildInteractiveMs = { p50: pct(inter, 50), max: pct(inter, 100), runs: inter.length };
      out.station7dInteractiveMs = { p50: pct(stationInter, 50), max: pct(stationInter, 100), runs: stationInter.length };
      say(`interactive: Lagebild ${JSON.stringify(out.lagebildInteractiveMs)}, station ${JSON.stringify(out.station7dInteractiveMs)}`);
    }
    // ---- SSE clients: memory, and the ingest rate with and without them ----
    const cred = await api('POST', '/api/v1/mqtt-credentials', { username: 'bench', publish: ['devices/+/up'] });
    const load = fork(
      path.join(HERE, 'load.ts'),
      [
        'load',
        JSON.stringify({
          port: Number(new URL(r.mqttUrl!).port),
          username: cred.username,
          password: cred.password,
          devices: N,
          prefix: 'st',
          baseTime: Date.now() - 3 * 86_400_000,
        }),
      ],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      },
    );
    children.push(load);
    const inbox: Array<Record<string, any>> = [];
    load.on('message', (m: Record<string, any>) => inbox.push(m));
    const waitEv = async (p: ChildProcess, box: Array<Record<string, any>>, ev: string, ms = 120_000) => {
      const t0 = Date.now();
      for (;;) {
        const i = box.findIndex((m) => m.ev === ev || m.ev === 'error');
        if (i >= 0) {
          const m = box.splice(i, 1)[0];
          if (m.ev === 'error') throw new Error(m.message);
          return m;
        }
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${ev}`);
        if (p.exitCode !== null) throw new Error(`child exited ${p.exitCode}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    await waitEv(load, inbox, 'connected');
    // server CPU per stored message, beside the rate: on a shared 2-core machine the rate also moves with
    // whatever else runs (the SSE clients here included); CPU time of this process is what SSE costs Regenwacht
    const cpuPerMsg: number[] = [];
    const burst = async () => {
      const c0 = process.cpuUsage();
      load.send({ cmd: 'burst', messages: Number(a.messages), window: 8, maxMs: 60_000 });
      const b = await waitEv(load, inbox, 'burst');
      await r.alerting?.settle();
      const c = process.cpuUsage(c0);
      cpuPerMsg.push(Math.round((c.user + c.system) / b.acked));
      return b.msgsPerS as number;
    };
    await burst(); // warm-up
    const mem = () => {
      (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      return { rssMB: Math.round(m.rss / 1048576), heapMB: Math.round((m.heapUsed + m.external) / 1048576) };
    };
    const sse = fork(fileURLToPath(import.meta.url), ['sse-clients', JSON.stringify({ url: r.httpUrl, cookie, n: Number(a.sse) })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(sse);
    const sseBox: Array<Record<string, any>> = [];
    sse.on('message', (m: Record<string, any>) => sseBox.push(m));
    const withClients = async () => {
      sse.send({ cmd: 'open' });
      await waitEv(sse, sseBox, 'open');
      await new Promise((res) => setTimeout(res, 500));
      const after = mem();
      const rate = await burst();
      sse.send({ cmd: 'close' });
      await waitEv(sse, sseBox, 'closed');
      return { rate, after };
    };
    // Paired rounds, alternating the order (without→with, with→without, …): the machine's drift between
    // bursts falls on both sides alike, and the median of the per-round ratios is what is reported.
    const rounds: Array<{ without: number; with: number; cpuWithout: number; cpuWith: number }> = [];
    let before = mem();
    let after = before;
    for (let k = 0; k < Number(a.rounds); k++) {
      let w: number;
      let wo: number;
      let cw: number;
      let cwo: number;
      if (k % 2 === 0) {
        await new Promise((res) => setTimeout(res, 500));
        before = mem();
        wo = await burst();
        cwo = cpuPerMsg.at(-1)!;
        ({ rate: w, after } = await withClients());
        cw = cpuPerMsg.at(-1)!;
      } else {
        ({ rate: w, after } = await withClients());
        cw = cpuPerMsg.at(-1)!;
        wo = await burst();
        cwo = cpuPerMsg.at(-1)!;
      }
      rounds.push({ without: wo, with: w, cpuWithout: cwo, cpuWith: cw });
      say(`SSE round ${k + 1}: without ${wo} msgs/s, with ${w} msgs/s (${Math.round((w / wo - 1) * 1000) / 10} %)`);
    }
    sse.send({ cmd: 'count' });
    const sseBytes = (await waitEv(sse, sseBox, 'count')).bytes as number;
    sse.send({ cmd: 'stop' });
    load.send({ cmd: 'stop' });
    const median = (xs: number[]) => {
      const v = [...xs].sort((x, y) => x - y);
      return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    const pctOf = (x: number) => Math.round((x - 1) * 1000) / 10;
    out.sse = {
      clients: Number(a.sse),
      rounds: rounds.length,
      memoryBefore: before,
      memoryWith: after,
      deltaRssMB: after.rssMB - before.rssMB,
      deltaHeapMB: after.heapMB - before.heapMB,
      ingestMsgsPerS: { without: rounds.map((x) => x.without), with: rounds.map((x) => x.with) },
      // median over rounds of (with ÷ without) − 1
      ingestChangePct: pctOf(median(rounds.map((x) => x.with / x.without))),
      serverCpuUsPerMsg: { without: rounds.map((x) => x.cpuWithout), with: rounds.map((x) => x.cpuWith) },
      serverCpuChangePct: pctOf(median(rounds.map((x) => x.cpuWith / x.cpuWithout))),
      receivedMB: Math.round((sseBytes / 1048576) * 10) / 10,
    };
    say(`SSE: ${JSON.stringify(out.sse)}`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await r.stop();
    const adm = new pg.Client({ connectionString: a['database-url'] });
    await adm.connect();
    await adm.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await adm.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}
