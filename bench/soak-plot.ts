// Draws a soak run's per-minute figures (bench/soak.ts) as one PNG: an SVG of four small charts, photographed
// by the machine's chromium through playwright-core (a dev dependency; nothing of this runs in production).
// Re-draw from a saved run: npx tsx bench/soak-plot.ts docs/soak.json docs/soak.png
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

interface Minute {
  minute: number;
  rss_mb_max: number;
  heap_mb: number;
  lag_ms_p99: number;
  lag_ms_max: number;
  cpu_s: number;
  alarm_ms_p50: number;
  alarm_ms_p99: number;
  stored_per_s?: number;
  storm?: { p99: number };
  loadavg?: number[];
}
interface JobRun {
  job: string;
  kind: string;
  t_min: number;
  ms: number;
  chunks?: number;
  rows?: number;
}
interface SoakDoc {
  command: string;
  at: string;
  summary: { rate: number; minutes: number; loadavg?: number[]; store?: string };
  verdict?: { pass: boolean; rss: { growth_pct: number }; lag: { growth_pct: number }; storms: { pass: boolean } };
  job_runs?: JobRun[];
  per_minute: Minute[];
}

const W = 1000;
const TOP = 76;
const PH = 190;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(
  y: number,
  title: string,
  unit: string,
  xs: Minute[],
  series: Array<{ name: string; color: string; v: (m: Minute) => number | undefined; dots?: boolean }>,
) {
  const left = 70;
  const right = W - 20;
  const top = y + 28;
  const h = PH - 55;
  const vals = series.flatMap((s) => xs.map(s.v).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  const ymax = Math.max(1, ...vals) * 1.1;
  const n = Math.max(1, xs.length);
  const px = (i: number) => left + ((right - left) * (i - 0.5)) / n;
  const py = (v: number) => top + h - (h * v) / ymax;
  let out = `<text x="${left}" y="${y + 18}" font-size="15" font-weight="bold">${esc(title)}</text>`;
  out += `<rect x="${left}" y="${top}" width="${right - left}" height="${h}" fill="none" stroke="#bbb"/>`;
  for (let k = 0; k <= 4; k++) {
    const v = (ymax * k) / 4;
    out += `<line x1="${left}" x2="${right}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${left - 6}" y="${py(v) + 4}" font-size="11" text-anchor="end">${v < 10 ? v.toFixed(1) : Math.round(v)}</text>`;
  }
  out += `<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(unit)}</text>`;
  for (const m of xs)
    if (m.storm) out += `<line x1="${px(m.minute)}" x2="${px(m.minute)}" y1="${top}" y2="${top + h}" stroke="#f2c200" stroke-dasharray="3 3"/>`;
  for (const m of xs) if (m.minute % 5 === 0) out += `<text x="${px(m.minute)}" y="${top + h + 14}" font-size="11" text-anchor="middle">${m.minute}</text>`;
  let lx = right - 10;
  for (const s of [...series].reverse()) {
    const pts = xs.map((m) => [m.minute, s.v(m)] as const).filter((p): p is readonly [number, number] => typeof p[1] === 'number' && Number.isFinite(p[1]));
    if (s.dots) for (const [i, v] of pts) out += `<circle cx="${px(i)}" cy="${py(v)}" r="4" fill="${s.color}"/>`;
    else
      out += `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([i, v]) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`;
    out += `<text x="${lx}" y="${y + 18}" font-size="12" text-anchor="end" fill="${s.color}">${esc(s.name)}</text>`;
    lx -= 12 + 7 * s.name.length;
  }
  return out;
}

const JOB_COLORS: Record<string, string> = { compression: '#0e7490', retention: '#b91c1c', other: '#9ca3af' };

/** every maintenance job run at the time it ended, its duration as height; compression and retention labelled
 *  with the chunks they compressed or dropped */
function jobsPanel(y: number, xs: Minute[], runs: JobRun[]) {
  const left = 70;
  const right = W - 20;
  const top = y + 28;
  const h = PH - 55;
  const ymax = Math.max(1, ...runs.map((r) => r.ms / 1000)) * 1.15;
  const n = Math.max(1, xs.length);
  // a run at t minutes after the start sits where minute ⌈t⌉'s points sit, proportionally
  const px = (t: number) => left + ((right - left) * t) / n;
  const py = (v: number) => top + h - (h * v) / ymax;
  let out = `<text x="${left}" y="${y + 18}" font-size="15" font-weight="bold">Maintenance job runs: duration (c: chunks compressed, d: dropped)</text>`;
  out += `<rect x="${left}" y="${top}" width="${right - left}" height="${h}" fill="none" stroke="#bbb"/>`;
  for (let k = 0; k <= 4; k++) {
    const v = (ymax * k) / 4;
    out += `<line x1="${left}" x2="${right}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${left - 6}" y="${py(v) + 4}" font-size="11" text-anchor="end">${v < 10 ? v.toFixed(1) : Math.round(v)}</text>`;
  }
  out += `<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">s</text>`;
  for (const m of xs)
    if (m.minute % 5 === 0) out += `<text x="${px(m.minute - 0.5)}" y="${top + h + 14}" font-size="11" text-anchor="middle">${m.minute}</text>`;
  // the jobs of one pass end within seconds of each other: compression drawn left of the pass, retention right
  const dx: Record<string, number> = { compression: -4, retention: 4, other: 0 };
  for (const kind of ['other', 'compression', 'retention'])
    for (const r of runs.filter((x) => x.kind === kind)) {
      const c = JOB_COLORS[r.kind] ?? JOB_COLORS.other;
      const x = px(r.t_min) + (dx[r.kind] ?? 0);
      out += `<line x1="${x}" x2="${x}" y1="${py(0)}" y2="${py(r.ms / 1000)}" stroke="${c}" stroke-width="3"/><circle cx="${x}" cy="${py(r.ms / 1000)}" r="3" fill="${c}"/>`;
      if (r.kind !== 'other' && r.chunks !== undefined)
        out += `<text x="${x + (r.kind === 'compression' ? -3 : 3)}" y="${Math.min(py(r.ms / 1000) - 6, top + h - 8)}" font-size="10" text-anchor="${r.kind === 'compression' ? 'end' : 'start'}" fill="${c}">${r.kind === 'compression' ? 'c' : 'd'}:${r.chunks}</text>`;
    }
  let lx = right - 10;
  for (const [name, c] of [
    ['other jobs', JOB_COLORS.other],
    ['retention', JOB_COLORS.retention],
    ['compression', JOB_COLORS.compression],
  ]) {
    out += `<text x="${lx}" y="${y + 18}" font-size="12" text-anchor="end" fill="${c}">${esc(name)}</text>`;
    lx -= 12 + 7 * name.length;
  }
  return out;
}

export function soakSvg(doc: SoakDoc): string {
  const xs = doc.per_minute;
  const runs = doc.job_runs;
  const panels = runs ? 5 : 4;
  const H = TOP + panels * PH + 20;
  let body = `<text x="20" y="26" font-size="17" font-weight="bold">Regenwacht soak: ${doc.summary.minutes} min at ${doc.summary.rate} msgs/s, storm every few minutes (dashed)</text>`;
  const v = doc.verdict;
  const verdict = v
    ? ` · verdict ${v.pass ? 'PASS' : 'FAIL'} (RSS ${v.rss.growth_pct} %, lag ${v.lag.growth_pct} %, storms ${v.storms.pass ? 'stable' : 'not stable'})`
    : '';
  body += `<text x="20" y="46" font-size="12" fill="#555">${esc(doc.command)} · ${esc(doc.at)}${doc.summary.loadavg ? ` · load average at the end ${doc.summary.loadavg.join(' / ')}` : ''} · x: minute</text>`;
  if (v) body += `<text x="20" y="64" font-size="12" fill="${v.pass ? '#2b8a3e' : '#b91c1c'}">${esc(verdict.replace(/^ · /, ''))}</text>`;
  body += panel(TOP, 'Resident memory (max per minute) and V8 heap', 'MB', xs, [
    { name: 'RSS', color: '#1f5fbf', v: (m) => m.rss_mb_max },
    { name: 'heap used', color: '#7aa7e8', v: (m) => m.heap_mb },
  ]);
  body += panel(TOP + PH, 'Event-loop lag', 'ms', xs, [
    { name: 'p99', color: '#2b8a3e', v: (m) => m.lag_ms_p99 },
    { name: 'max', color: '#9bd0a6', v: (m) => m.lag_ms_max },
  ]);
  body += panel(TOP + 2 * PH, 'Alarm latency, MQTT publish → webhook', 'ms', xs, [
    { name: 'p50', color: '#c2410c', v: (m) => m.alarm_ms_p50 },
    { name: 'p99', color: '#f59e0b', v: (m) => m.alarm_ms_p99 },
    { name: 'storm p99', color: '#7c3aed', v: (m) => m.storm?.p99, dots: true },
  ]);
  body += panel(TOP + 3 * PH, 'CPU s per minute (this process), readings stored per s ÷ 100, load average', 's, msgs/s ÷ 100, load', xs, [
    { name: 'CPU s', color: '#444', v: (m) => m.cpu_s },
    { name: 'stored/s ÷ 100', color: '#0e7490', v: (m) => (m.stored_per_s === undefined ? undefined : m.stored_per_s / 100) },
    { name: 'machine load avg (1 min)', color: '#a21caf', v: (m) => m.loadavg?.[0] },
  ]);
  if (runs) body += jobsPanel(TOP + 4 * PH, xs, runs);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
}

export async function renderSoakPng(doc: SoakDoc, file: string): Promise<void> {
  const svg = soakSvg(doc);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: TOP + (doc.job_runs ? 5 : 4) * PH + 20 } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [json, png] = process.argv.slice(2);
  renderSoakPng(JSON.parse(fs.readFileSync(json ?? 'docs/soak.json', 'utf8')) as SoakDoc, png ?? 'docs/soak.png').then(
    () => process.exit(0),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
