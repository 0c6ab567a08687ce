// npx tsx bench/opendata-plan-bounds.ts (embedded store only) — does a time bound let the embedded store (PGlite +
// TimescaleDB) skip planning the year's chunks? The same year of 5-minute observations as bench/opendata.ts
// (compressed), then the planning and execution time (explain analyze, 5 rounds, medians) of the open-data
// Observations query shapes with and without a constant time bound. A measurement for issue 15's embedded
// figures, not a change of the API. [docs/benchmarks.md "Embedded open data: time bounds"]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startRegenwacht } from '../services/app.ts';
import type { Queryable } from '../services/db/db.ts';
import { ENTITIES } from '../services/opendata/sta/entity-store.ts';
import type { Expr } from '../services/opendata/sta/filter-parser.ts';
import { findRows, keysetColumns, type Page } from '../services/opendata/sta/sta-queries.ts';

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '105120' },
  },
});
const store = 'embedded';
const ROWS = Number(a.rows);
const T0 = Date.UTC(2025, 0, 1);
const STEP = 300_000;
const T_START = Date.now();
const say = (s: string) => process.stderr.write(`[bench:opendata-plan-bounds +${((Date.now() - T_START) / 1000).toFixed(1)}s] ${s}\n`);
const LIMIT_S = 600;
const deadline = setTimeout(() => {
  say(`exceeded ${LIMIT_S} s; giving up`);
  process.exit(1);
}, LIMIT_S * 1000);
deadline.unref();

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-bench-od-'));
  const token = crypto.randomBytes(24).toString('hex');
  const r = await startRegenwacht({ dataDir, httpPort: 0, mqttPort: 0, adminToken: token, env: { PATH: process.env.PATH } }, pino({ level: 'warn' }));
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
    say(`store ${store} (${r.ctx.db.kind}, timescale ${r.ctx.db.timescale})`);
    await api('POST', '/api/v1/devices', { id: 'bench-01', name: 'Bench-Pegel', model: 'generic', location: { lat: 50.58, lon: 8.67 } });
    await api('PUT', '/api/v1/orgs/default/open-data', { enabled: true, publisher: 'Bench' });
    const t0 = Date.now();
    for (let from = 0; from < ROWS; from += 10_000) {
      const n = Math.min(10_000, ROWS - from);
      const times = Array.from({ length: n }, (_, i) => new Date(T0 + (from + i) * STEP).toISOString());
      const values = Array.from({ length: n }, (_, i) => 100 + Math.sin((from + i) / 500) * 50);
      await r.ctx.db.query(
        `insert into readings(time, device_id, metric, value, quality) select t, 'bench-01', 'level_cm', v, 0 from unnest($1::timestamptz[], $2::float8[]) as x(t, v)`,
        [times, values],
      );
    }
    say(`${ROWS} rows inserted in ${Date.now() - t0} ms`);
    if (r.ctx.db.timescale) {
      // A year inserted at once lands in 365 day-chunks that are all older than the compression policy's 7 days;
      // left alone, the embedded scheduler would compress them while the timed phase runs (that made the first
      // embedded run unusable). Live data is compressed a day at a time, so compress first, then measure — the
      // queries below then read compressed chunks, as they would on a running installation.
      const tc = Date.now();
      const jobs = await r.ctx.db.query<{ job_id: number }>(
        `select job_id from timescaledb_information.jobs where proc_name = 'policy_compression' and hypertable_name = 'readings'`,
      );
      for (const j of jobs.rows) await r.ctx.db.exec(`call run_job(${Number(j.job_id)})`);
      const c = await r.ctx.db.query<{ n: string }>(
        `select count(*) as n from timescaledb_information.chunks where hypertable_name = 'readings' and is_compressed`,
      );
      say(`compressed ${c.rows[0]?.n} chunks in ${Date.now() - tc} ms`);
    }
    await r.ctx.db.query('analyze readings');
    const Q = (bound: string) =>
      `select r.device_id, r.metric, r.time, r.value, r.quality from readings r where r.device_id = 'bench-01' and r.metric = 'level_cm' and r.quality in (0, 16) ${bound} order by r.time desc limit 2`;
    const P = (bound: string) =>
      `select r.device_id, r.metric, r.time, r.value, r.quality from readings r where r.device_id = 'bench-01' and r.metric = 'level_cm' and r.quality in (0, 16) ${bound} order by r.time limit 1001`;
    const variants: Array<[string, string]> = [
      ['latest, no bound', Q('')],
      ['latest, time >= last day (constant)', Q(`and r.time >= '2025-12-31T00:00:00Z'::timestamptz`)],
      ['latest, time >= last 30 days (constant)', Q(`and r.time >= '2025-12-01T00:00:00Z'::timestamptz`)],
      ['page after cursor, no upper bound', P(`and r.time > '2025-06-01T00:00:00Z'::timestamptz`)],
      ['page after cursor, upper bound cursor + 7 d', P(`and r.time > '2025-06-01T00:00:00Z'::timestamptz and r.time < '2025-06-08T00:00:00Z'::timestamptz`)],
    ];
    const res: Record<string, { plan: number[]; exec: number[] }> = {};
    for (let round = 0; round < 5; round++)
      for (const [label, sql] of variants) {
        const plan = await r.ctx.db.query<Record<string, string>>(`explain (analyze, costs off) ${sql}`);
        const lines = plan.rows.map((x) => Object.values(x)[0]);
        const pt = Number(/Planning Time: ([\d.]+)/.exec(lines.join('\n'))?.[1]);
        const et = Number(/Execution Time: ([\d.]+)/.exec(lines.join('\n'))?.[1]);
        const chunks = lines.filter((l) => /_hyper_1_\d+_chunk/.test(l)).length;
        (res[label] ??= { plan: [], exec: [] }).plan.push(pt);
        res[label].exec.push(et);
        if (round === 0) say(`${label}: chunks in plan ${chunks}`);
      }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    for (const [label, v] of Object.entries(res)) say(`${label}: planning median ${med(v.plan)} ms (${v.plan.join(', ')}), execution median ${med(v.exec)} ms`);
    // The API's own statements (services/opendata/sta/sta-queries.ts findRows), with its time window and without:
    // a 1 000-row page after a cursor, the next page newest first, and the latest value of bench-01 (whose year
    // ended long ago: the day-window is empty and the page is read again without it) and of bench-02, a live
    // gauge with two days of readings up to now.
    await api('POST', '/api/v1/devices', { id: 'bench-02', name: 'Bench-Pegel live', model: 'generic', location: { lat: 50.59, lon: 8.68 } });
    await r.ctx.db.query(
      `insert into readings(time, device_id, metric, value, quality)
       select t, 'bench-02', 'level_cm', 100, 0 from generate_series(date_trunc('minute', now()) - interval '2 days', date_trunc('minute', now()), interval '5 minutes') as t`,
    );
    const def = ENTITIES.Observations;
    const time: Expr = { k: 'path', segs: ['phenomenonTime'] } as Expr;
    const of = (id: string) => [{ cols: ['device_id', 'metric'], values: [id, 'level_cm'] }];
    const cursor = new Date(T0 + 150 * 86_400_000).toISOString();
    const pages: Array<[string, Page]> = [
      [
        'API: 1 000-row page after a cursor',
        { def, where: of('bench-01'), orderby: [], limit: 1001, offset: 0, after: { keys: keysetColumns(def, [])!, values: [cursor, 'bench-01', 'level_cm'] } },
      ],
      [
        'API: 100-row page after a cursor, newest first',
        {
          def,
          where: of('bench-01'),
          orderby: [{ expr: time, desc: true }],
          limit: 101,
          offset: 0,
          after: { keys: keysetColumns(def, [{ expr: time, desc: true }])!, values: [cursor, 'bench-01', 'level_cm'] },
        },
      ],
      ['API: latest value of a gauge silent since 2025', { def, where: of('bench-01'), orderby: [{ expr: time, desc: true }], limit: 2, offset: 0 }],
      ['API: latest value of a live gauge', { def, where: of('bench-02'), orderby: [{ expr: time, desc: true }], limit: 2, offset: 0 }],
    ];
    const timed: Record<string, number[]> = {};
    for (let round = 0; round < 5; round++)
      for (const [label, page] of pages)
        for (const window of [false, true]) {
          const statements: string[] = [];
          const spy: Queryable = {
            query: (sql, params) => {
              statements.push(sql);
              return r.ctx.db.query(sql, params);
            },
            exec: (sql) => r.ctx.db.exec(sql),
          };
          const t = performance.now();
          await findRows(spy, page, { window });
          (timed[`${label}, ${window ? 'with the window' : 'without (as before)'} (${statements.length} statement${statements.length > 1 ? 's' : ''})`] ??=
            []).push(performance.now() - t);
        }
    for (const [label, v] of Object.entries(timed)) say(`${label}: median ${med(v).toFixed(1)} ms (${v.map((x) => x.toFixed(0)).join(', ')})`);
    say(
      `loadavg ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await r.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
