// Station view: hydrograph with Meldestufen / threshold lines, rain bars with rolling 1 h and 6 h sums and
// the DWD levels, alarm periods shaded, flagged readings marked; facts about the device; CSV of the range.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OFFLINE_METRIC } from '../../../alerts/rules/rule-types.ts';
import { type Alarm, ENDED_STATES, isEvaluated, METRIC_UNITS, qualityFlags, type Severity } from '../../../alerts/types.ts';
import { sees } from '../../api/auth.ts';
import type { Device } from '../../devices/device-registry.ts';
import { deviceHealth, latestValues, metricsOf, rawReadings } from '../../devices/readings.ts';
import { chartsJson, latestJson } from '../console-schemas.ts';
import { needUser, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { type Html, html, jsonBlock } from '../html.ts';
import type { I18n } from '../i18n.ts';
import { layout } from '../layout.ts';
import { stationStatus } from '../situation.ts';
import { valueText } from './lagebild.ts';

const H = 3_600_000;
const RANGES = { '6h': 6 * H, '24h': 24 * H, '7d': 7 * 24 * H } as const;
type RangeKey = keyof typeof RANGES | 'custom';
const FACT_METRICS = new Set(['battery_v', 'battery_pct', 'rssi_dbm', 'snr_db']);
const LIMIT = 100_000;

/** `YYYY-MM-DDTHH:mm` as Europe/Berlin wall-clock time, or any ISO time with a zone. */
export function berlinTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  if (/[zZ]|[+-]\d\d:\d\d$/.test(s)) {
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : undefined;
  }
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)$/.exec(s);
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const offset = (t: number) => {
    const name =
      new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', timeZoneName: 'longOffset' }).formatToParts(t).find((p) => p.type === 'timeZoneName')
        ?.value ?? 'GMT';
    const o = /GMT([+-])(\d\d):(\d\d)/.exec(name);
    return o ? (o[1] === '-' ? -1 : 1) * (+o[2] * 60 + +o[3]) * 60_000 : 0;
  };
  return asUtc - offset(asUtc - offset(asUtc));
}

const berlinInput = (t: number) => {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(t)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
};

export function parseRange(q: Record<string, string | undefined>, now: number): { from: number; to: number; key: RangeKey } {
  const from = berlinTime(q.from);
  const to = berlinTime(q.to);
  if (from !== undefined && to !== undefined && to > from && to - from <= 31 * 24 * H) return { from, to, key: 'custom' };
  const key = q.range && q.range in RANGES ? (q.range as keyof typeof RANGES) : '24h';
  return { from: now - RANGES[key], to: now + 60_000, key };
}

interface Line {
  value: number;
  severity: Severity;
  label: string;
  scale: 'y' | 'sum';
}

const ROMAN = ['I', 'II', 'III', 'IV'];
const DWD_STUFE: Record<string, number> = { minor: 1, moderate: 2, severe: 3, extreme: 4 };

/** Threshold lines of the rules that watch this device's metric (same scope test as the rule engine's). */
function linesFor(d: WebDeps, dev: Device, metric: string, i: I18n): Line[] {
  const out: Line[] = [];
  for (const r of d.ctx.rules?.list() ?? []) {
    if (r.org !== dev.org || r.enabled === false || r.mode !== 'active' || r.metric !== metric) continue;
    if (r.scope.deviceIds && !r.scope.deviceIds.includes(dev.id)) continue;
    if (!Object.entries(r.scope.tags ?? {}).every(([k, v]) => dev.tags[k] === v)) continue;
    if (r.kind === 'threshold') {
      r.levels.forEach((l, k) =>
        out.push({
          value: l.threshold,
          severity: l.severity,
          scale: 'y',
          label: r.preset === 'pegel-meldestufen' ? i.t('meldestufe', { n: ROMAN[k] ?? k + 1 }) : `${i.t('threshold', { sev: i.sev(l.severity) })} (${r.name})`,
        }),
      );
    } else if (r.kind === 'accumulation') {
      for (const l of r.levels) {
        if (l.windowMs !== H && l.windowMs !== 6 * H) continue;
        const w = l.window ?? '';
        out.push({
          value: l.threshold,
          severity: l.severity,
          scale: 'sum',
          label: r.preset?.startsWith('dwd') ? i.t('dwd_level', { n: DWD_STUFE[l.severity], w }) : `${i.t('threshold', { sev: i.sev(l.severity) })} ${w}`,
        });
      }
    }
  }
  // one line per value and scale
  return out.filter((l, k) => out.findIndex((x) => x.value === l.value && x.scale === l.scale) === k).sort((a, b) => a.value - b.value);
}

interface Chart {
  metric: string;
  unit: string;
  kind: 'line' | 'rain';
  title: string;
  x: number[];
  /** line: good values and flagged values, null where the other one is */
  good?: (number | null)[];
  flagged?: (number | null)[];
  /** rain: per bucket, and rolling sums at each bucket's end */
  bars?: number[];
  sum1h?: number[];
  sum6h?: number[];
  bucketMin?: number;
  lines: Line[];
  alarms: { from: number; to: number; severity: Severity }[];
  table: { time: number; value: number; flags: string[] }[];
}

async function buildCharts(d: WebDeps, dev: Device, i: I18n, from: number, to: number, alarms: Alarm[]): Promise<Chart[]> {
  const metrics = (await metricsOf(d.ctx.db, dev.id, new Date(from), new Date(to))).filter((m) => !FACT_METRICS.has(m));
  // rain first, then levels, then the rest
  metrics.sort((a, b) => (a === 'rain_mm' ? -1 : b === 'rain_mm' ? 1 : a === 'level_cm' ? -1 : b === 'level_cm' ? 1 : a.localeCompare(b)));
  const charts: Chart[] = [];
  for (const metric of metrics) {
    const ended = (a: Alarm) => {
      const e = a.resolvedAt ?? a.closedAt;
      return e ? Date.parse(e) : null;
    };
    const periods = alarms
      .filter((a) => (a.metric === metric || a.metric === OFFLINE_METRIC) && Date.parse(a.startedAt) < to && (ended(a) ?? Infinity) > from)
      .map((a) => ({ from: Math.max(from, Date.parse(a.startedAt)) / 1000, to: Math.min(to, ended(a) ?? Date.now()) / 1000, severity: a.severity }));
    const unit = METRIC_UNITS[metric] ?? '';
    const lines = linesFor(d, dev, metric, i);
    if (metric === 'rain_mm') {
      const raw = (await rawReadings(d.ctx.db, dev.id, metric, new Date(from - 6 * H), new Date(to), LIMIT)).filter((p) => isEvaluated(p.quality));
      const bucket = to - from <= 24 * H + 60_000 ? 5 * 60_000 : H;
      const start = Math.floor(from / bucket) * bucket;
      const x: number[] = [];
      const bars: number[] = [];
      const sum1h: number[] = [];
      const sum6h: number[] = [];
      // prefix sums over the readings, then each bucket and each window is two binary searches
      const ts = raw.map((p) => p.time.getTime());
      const pre = [0];
      for (const p of raw) pre.push(pre[pre.length - 1] + p.value);
      const upto = (t: number) => {
        let lo = 0;
        let hi = ts.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ts[mid] <= t) lo = mid + 1;
          else hi = mid;
        }
        return pre[lo];
      };
      const round = (v: number) => Math.round(v * 100) / 100;
      for (let b = start; b < to; b += bucket) {
        const end = Math.min(b + bucket, to);
        x.push(b / 1000);
        bars.push(round(upto(end - 1) - upto(b - 1)));
        sum1h.push(round(upto(end - 1) - upto(end - 1 - H)));
        sum6h.push(round(upto(end - 1) - upto(end - 1 - 6 * H)));
      }
      charts.push({
        metric,
        unit,
        kind: 'rain',
        title: i.t('chart_rain'),
        x,
        bars,
        sum1h,
        sum6h,
        bucketMin: bucket / 60_000,
        lines,
        alarms: periods,
        table: raw
          .filter((p) => p.time.getTime() >= from)
          .slice(-100)
          .reverse()
          .map((p) => ({ time: p.time.getTime(), value: p.value, flags: [] })),
      });
    } else {
      const raw = await rawReadings(d.ctx.db, dev.id, metric, new Date(from), new Date(to), LIMIT);
      charts.push({
        metric,
        unit,
        kind: 'line',
        title: metric === 'level_cm' ? i.t('chart_level') : metric,
        x: raw.map((p) => p.time.getTime() / 1000),
        good: raw.map((p) => (isEvaluated(p.quality) ? p.value : null)),
        flagged: raw.map((p) => (!isEvaluated(p.quality) ? p.value : null)),
        lines,
        alarms: periods,
        table: raw
          .slice(-100)
          .reverse()
          .map((p) => ({ time: p.time.getTime(), value: p.value, flags: qualityFlags(p.quality) })),
      });
    }
  }
  return charts;
}

function chartSection(i: I18n, c: Chart): Html {
  const { t } = i;
  return html`<section class="chart" aria-labelledby="h-${c.metric}">
<h2 id="h-${c.metric}">${c.title} (${c.unit})</h2>
<div id="chart-${c.metric}" class="plot" role="img" aria-label="${c.title}: ${c.x.length} ${c.kind === 'rain' ? `× ${c.bucketMin} min` : ''}" data-metric="${c.metric}" data-lines="${c.lines.map((l) => l.value).join(',')}"></div>
<ul class="chart-legend">
${c.kind === 'rain' ? html`<li><span class="swatch bar" aria-hidden="true"></span>${c.title} / ${c.bucketMin} min</li><li><span class="swatch sum1h" aria-hidden="true"></span>${t('chart_sum1h')}</li><li><span class="swatch sum6h" aria-hidden="true"></span>${t('chart_sum6h')}</li>` : html`<li><span class="swatch series" aria-hidden="true"></span>${c.title}</li>`}
${c.lines.map((l) => html`<li class="line" data-value="${l.value}"><span class="swatch sev-${l.severity}" aria-hidden="true"></span>${l.label}: ${i.num(l.value)} ${c.unit}</li>`)}
${c.flagged?.some((v) => v !== null) ? html`<li><span class="swatch flag" aria-hidden="true"></span>${t('chart_flagged')}</li>` : ''}
${c.alarms.length ? html`<li><span class="swatch alarm" aria-hidden="true"></span>${t('chart_alarm')}</li>` : ''}
</ul>
<details class="data-table"><summary>${t('chart_table')}</summary>
<table><thead><tr><th scope="col">${t('col_time')}</th><th scope="col">${c.unit}</th><th scope="col">${t('chart_flagged')}</th></tr></thead>
<tbody>${c.table.map((r) => html`<tr${r.flags.length ? html` class="flagged"` : ''}><td>${i.time(r.time)}</td><td>${i.num(r.value, 2)}</td><td>${r.flags.join(', ')}</td></tr>`)}</tbody></table>
</details>
</section>`;
}

export async function stationPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const device = (req: FastifyRequest, org: string | null): Device => {
    const id = (req.params as { id: string }).id;
    const dev = ctx.devices.get(id);
    if (!dev || !sees({ tokenId: 0, name: '', role: 'viewer', org }, dev.org)) throw new WebNotFound();
    return dev;
  };

  app.get('/stations/:id', async (req, reply) => {
    const p = needUser(req);
    const dev = device(req, p.org);
    const v = view(req);
    const { i } = v;
    const { t } = i;
    const q = req.query as Record<string, string>;
    const now = Date.now();
    const range = parseRange(q, now);
    const alarms = ctx.alarms ? (await ctx.alarms.list({ state: 'all', deviceId: dev.id, mode: 'active', limit: 500 })).filter((a) => a.mode === 'active') : [];
    const open = alarms.filter((a) => !ENDED_STATES.includes(a.state));
    const [charts, health, latest] = await Promise.all([
      buildCharts(d, dev, i, range.from, range.to, alarms),
      deviceHealth(ctx.db, dev.id),
      latestValues(ctx.db, dev.id, [...FACT_METRICS]),
    ]);
    const lastSeen = Math.max(health.lastSeen?.getTime() ?? 0, d.feed.lastSeen.get(dev.id) ?? 0) || null;
    const status = stationStatus(open, lastSeen, now);
    const battery = latest.battery_v ? `${i.num(latest.battery_v.value, 2)} V` : latest.battery_pct ? `${i.num(latest.battery_pct.value, 0)} %` : '–';
    const rssi = health.rssi ?? latest.rssi_dbm?.value ?? null;
    const snr = health.snr ?? latest.snr_db?.value ?? null;
    const qs = (o: Record<string, string>) => `?${new URLSearchParams(o)}`;
    const csvQuery: Record<string, string> =
      range.key === 'custom' ? { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() } : { range: range.key };
    const statusWord = status === 'ok' ? t('status_ok') : status === 'offline' ? t('status_offline') : i.sev(status);
    const body = html`<section>
<h1>${dev.name} <span class="sev sev-${status}">${statusWord}</span></h1>
<p class="muted">${dev.id}</p>
<dl class="facts">
  <div><dt>${t('station_last_seen')}</dt><dd id="last-seen">${lastSeen ? i.time(lastSeen) : t('station_never')}</dd></div>
  <div><dt>${t('station_battery')}</dt><dd>${battery}</dd></div>
  <div><dt>${t('station_rssi')}</dt><dd>${rssi === null ? '–' : `${i.num(rssi, 0)} dBm`}</dd></div>
  <div><dt>${t('station_snr')}</dt><dd>${snr === null ? '–' : `${i.num(snr, 1)} dB`}</dd></div>
  <div><dt>${t('station_interval')}</dt><dd>${health.intervalMs ? i.duration(health.intervalMs) : '–'}</dd></div>
  <div><dt>${t('station_org')}</dt><dd>${dev.org}</dd></div>
</dl>
${
  open.length
    ? html`<h2>${t('station_open_alarms')}</h2><ul>${open.map((a) => html`<li><span class="sev sev-${a.severity}">${i.sev(a.severity)}</span> <a href="/alarms/${a.id}">${a.ruleName}</a> – ${valueText(i, a)}</li>`)}</ul>`
    : ''
}
<nav class="ranges" aria-label="${t('station_range')}">
${(['6h', '24h', '7d'] as const).map((k) => html`<a class="button" href="${qs({ range: k })}" aria-current="${range.key === k ? 'true' : 'false'}">${k}</a>`)}
<form method="get" class="ranges" id="custom-range">
<label>${t('station_from')} <input type="datetime-local" name="from" value="${berlinInput(range.from)}"></label>
<label>${t('station_to')} <input type="datetime-local" name="to" value="${berlinInput(range.to)}"></label>
<button type="submit">${t('station_show')}</button>
</form>
<a class="button" href="/stations/${encodeURIComponent(dev.id)}/readings.csv${qs(csvQuery)}" download>${t('station_csv')}</a>
</nav>
${charts.length ? charts.map((c) => chartSection(i, c)) : html`<p class="muted">${t('station_no_data')}</p>`}
</section>
${jsonBlock('station-data', {
  charts: charts.map(({ table: _table, ...c }) => c),
  words: { sum1h: t('chart_sum1h'), sum6h: t('chart_sum6h'), flagged: t('chart_flagged'), lang: i.lang },
  // a preset range ends now, so the page follows new readings; a custom range stays as asked
  live: range.key === 'custom' ? null : { deviceId: dev.id, range: range.key },
})}`;
    return sendHtml(
      reply,
      layout(v, {
        title: t('station_title', { name: dev.name }),
        page: 'station',
        body,
        styles: ['/assets/uplot/uPlot.min.css'],
        scripts: ['/assets/uplot/uPlot.iife.min.js', '/assets/app/station.js'],
      }),
    );
  });

  /** the charts of a preset range again, for a station page that heard of new readings (live, without reload) */
  app.get('/stations/:id/charts.json', { schema: { response: { 200: chartsJson } } }, async (req) => {
    const p = needUser(req);
    const dev = device(req, p.org);
    const { i } = view(req);
    const range = parseRange(req.query as Record<string, string>, Date.now());
    const alarms = ctx.alarms ? (await ctx.alarms.list({ state: 'all', deviceId: dev.id, mode: 'active', limit: 500 })).filter((a) => a.mode === 'active') : [];
    const [charts, health] = await Promise.all([buildCharts(d, dev, i, range.from, range.to, alarms), deviceHealth(ctx.db, dev.id)]);
    const lastSeen = Math.max(health.lastSeen?.getTime() ?? 0, d.feed.lastSeen.get(dev.id) ?? 0) || null;
    return { charts: charts.map(({ table: _table, ...c }) => c), lastSeen: lastSeen ? i.time(lastSeen) : null };
  });

  /** the newest value of each metric (last 7 days) and last seen: what the Lagebild's popup shows when opened */
  app.get('/stations/:id/latest.json', { schema: { response: { 200: latestJson } } }, async (req) => {
    const p = needUser(req);
    const dev = device(req, p.org);
    const now = Date.now();
    const metrics = await metricsOf(ctx.db, dev.id, new Date(now - RANGES['7d']), new Date(now + 60_000));
    const [latest, health] = await Promise.all([latestValues(ctx.db, dev.id, metrics), deviceHealth(ctx.db, dev.id)]);
    const lastSeen = Math.max(health.lastSeen?.getTime() ?? 0, d.feed.lastSeen.get(dev.id) ?? 0) || null;
    return { lastSeen, values: Object.fromEntries(Object.entries(latest).map(([m, x]) => [m, x.value])) };
  });

  app.get('/stations/:id/readings.csv', async (req, reply) => {
    const p = needUser(req);
    const dev = device(req, p.org);
    const range = parseRange(req.query as Record<string, string>, Date.now());
    const metrics = await metricsOf(ctx.db, dev.id, new Date(range.from), new Date(range.to));
    const lines = ['time,metric,value,unit,quality,flags'];
    const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    for (const m of metrics) {
      for (const r of await rawReadings(ctx.db, dev.id, m, new Date(range.from), new Date(range.to), LIMIT)) {
        lines.push(
          [r.time.toISOString(), cell(m), String(r.value), cell(METRIC_UNITS[m] ?? ''), String(r.quality), cell(qualityFlags(r.quality).join(' '))].join(','),
        );
      }
    }
    const stamp = (t: number) => new Date(t).toISOString().slice(0, 16).replace(/[-:]/g, '');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${dev.id}_${stamp(range.from)}_${stamp(range.to)}.csv"`)
      .send(`${lines.join('\r\n')}\r\n`);
  });
}
