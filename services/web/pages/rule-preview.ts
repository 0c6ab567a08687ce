// The backtest preview of a rule: the alarms it would have raised over a stored period, and per station a
// chart of what the rule measures (the rolling sum of an accumulation rule, the value otherwise) with its
// thresholds and the alarm periods — next to the current version when an existing rule is edited.
import type { Rule } from '../../../alerts/rules/rule-types.ts';
import { isEvaluated, type Severity } from '../../../alerts/types.ts';
import type { BacktestAlarm, BacktestResult } from '../../alarms/backtest.ts';
import type { EvaluatedReading } from '../../ingest/quality-replay.ts';
import { type Html, html } from '../html.ts';
import { rt } from '../i18n/rules.ts';
import type { I18n } from '../i18n.ts';

/** Stations drawn at most; the rest are in the alarm table. */
const MAX_CHARTS = 4;
/** Points per chart at most: 30 days of 5-minute data are thinned to the peak of each bucket. */
const MAX_POINTS = 1500;

export interface PreviewChart {
  id: string;
  title: string;
  label: string;
  unit: string;
  /** seconds */
  times: number[];
  values: (number | null)[];
  lines: { value: number; label: string; severity: Severity }[];
  periods: { from: number; to: number; severity: Severity }[];
}

export interface Version {
  rule: Rule;
  result: BacktestResult;
}

/** What the chart of one station under one rule version shows. */
function chartOf(i: I18n, v: Version, deviceId: string, to: number, key: string): PreviewChart | undefined {
  const { rule } = v;
  if (rule.kind === 'offline') return undefined;
  const w = rt(i);
  const own = v.result.readingsOf(deviceId).filter((r) => r.metric === rule.metric && isEvaluated(r.quality));
  const windowMs = rule.kind === 'accumulation' ? Math.min(...rule.levels.map((l) => l.windowMs)) : 0;
  const window = rule.levels.find((l) => l.windowMs === windowMs)?.window ?? '';
  const series = thin(rule.kind === 'accumulation' ? rollingSum(own, windowMs) : own.map((r) => ({ t: r.at, v: r.value })), rule.comparison === 'below');
  const lines =
    rule.kind === 'rate'
      ? []
      : rule.levels
          .filter((l) => l.windowMs === windowMs)
          .map((l) => ({ value: l.threshold, severity: l.severity, label: `${i.sev(l.severity)} ${l.strict ? '>' : '≥'} ${i.num(l.threshold)}` }));
  const name = v.result.devices.find((d) => d.id === deviceId)?.name ?? deviceId;
  return {
    id: `${key}-${deviceId}`,
    title: w('preview_chart', { station: name }),
    label: rule.kind === 'accumulation' ? w('preview_measure_sum', { w: window }) : w('preview_measure_value'),
    unit: rule.metric === 'rain_mm' ? 'mm' : rule.metric === 'level_cm' ? 'cm' : '',
    times: series.map((p) => Math.round(p.t / 1000)),
    values: series.map((p) => Math.round(p.v * 100) / 100),
    lines,
    periods: v.result.alarms
      .filter((a) => a.deviceId === deviceId)
      .map((a) => ({ from: Date.parse(a.startedAt) / 1000, to: (a.resolvedAt ? Date.parse(a.resolvedAt) : to) / 1000, severity: a.maxSeverity })),
  };
}

/** Sum of the readings in (t − window, t] at each reading, as the engine's accumulation window counts them. */
export function rollingSum(rs: EvaluatedReading[], windowMs: number): { t: number; v: number }[] {
  const sorted = [...rs].sort((a, b) => a.at - b.at);
  const out: { t: number; v: number }[] = [];
  let sum = 0;
  let lo = 0;
  for (const r of sorted) {
    sum += r.value;
    while (lo < sorted.length && sorted[lo].time <= r.time - windowMs) sum -= sorted[lo++].value;
    out.push({ t: r.at, v: Math.max(0, sum) });
  }
  return out;
}

/** At most MAX_POINTS points: each bucket keeps its peak (its lowest value for a "below" rule), so no crossing is hidden. */
export function thin(ps: { t: number; v: number }[], below: boolean): { t: number; v: number }[] {
  if (ps.length <= MAX_POINTS) return ps;
  const per = Math.ceil(ps.length / MAX_POINTS);
  const out: { t: number; v: number }[] = [];
  for (let k = 0; k < ps.length; k += per) {
    let best = ps[k];
    for (let j = k + 1; j < Math.min(ps.length, k + per); j++) if (below ? ps[j].v < best.v : ps[j].v > best.v) best = ps[j];
    out.push(best);
  }
  return out;
}

/** Stations worth drawing: those with alarms in either version first, else the first with readings. */
function stationsToDraw(versions: Version[]): string[] {
  const withAlarms = [...new Set(versions.flatMap((v) => v.result.alarms.map((a) => a.deviceId)))];
  if (withAlarms.length) return withAlarms.slice(0, MAX_CHARTS);
  const first = versions[0].result.devices.find((d) => versions[0].result.readingsOf(d.id).length > 0)?.id;
  return first ? [first] : [];
}

export function previewCharts(i: I18n, next: Version, current: Version | undefined, to: number): { rows: { next?: PreviewChart; current?: PreviewChart }[] } {
  const versions = current ? [next, current] : [next];
  return {
    rows: stationsToDraw(versions).map((id) => ({ next: chartOf(i, next, id, to, 'new'), current: current ? chartOf(i, current, id, to, 'cur') : undefined })),
  };
}

function alarmTable(i: I18n, r: BacktestResult, rule: Rule, label: string): Html {
  const w = rt(i);
  const name = (id: string) => r.devices.find((d) => d.id === id)?.name ?? id;
  const unit = rule.metric === 'rain_mm' ? 'mm' : rule.metric === 'level_cm' ? 'cm' : '';
  const stations = new Set(r.alarms.map((a) => a.deviceId)).size;
  return html`<div class="version" data-version="${label}">
<p class="summary"><strong>${w('preview_summary', { n: r.alarms.length, s: stations, r: r.readingCount })}</strong></p>
${
  r.alarms.length
    ? html`<table class="preview-alarms"><thead><tr><th scope="col">${i.t('col_station')}</th><th scope="col">${w('col_max')}</th><th scope="col">${w('col_started')} – ${w('col_ended')}</th><th scope="col">${w('col_peak')}</th></tr></thead>
<tbody>${r.alarms.map(
        (a: BacktestAlarm) =>
          html`<tr data-device="${a.deviceId}" data-severity="${a.maxSeverity}"><td>${name(a.deviceId)}</td><td><span class="sev sev-${a.maxSeverity}">${i.sev(a.maxSeverity)}</span></td><td>${i.time(a.startedAt)} –<br>${a.resolvedAt ? i.time(a.resolvedAt) : w('still_open')}</td><td>${i.num(a.value)} / ${i.num(a.threshold)} ${unit}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">${r.readingCount ? w('preview_none') : w('preview_no_readings')}</p>`
}</div>`;
}

/** The preview section: summary and alarms per version, then the charts (drawn by rules.js from #preview-data). */
export function previewHtml(i: I18n, next: Version, current: Version | undefined, from: number, to: number, charts: ReturnType<typeof previewCharts>): Html {
  const w = rt(i);
  const chartDiv = (c: PreviewChart | undefined, label: string) =>
    c
      ? html`<figure class="preview-chart"><figcaption>${label ? `${label}: ` : ''}${c.title} <span class="muted">(${c.label}${c.unit ? `, ${c.unit}` : ''})</span></figcaption><div class="chart-box" data-chart="${c.id}"></div></figure>`
      : '';
  return html`<section class="preview" id="preview" aria-labelledby="preview-h">
<h2 id="preview-h">${w('preview_title')}</h2>
<p class="muted">${w('preview_period', { from: i.time(from), to: i.time(to) })}</p>
<div class="${current ? 'side-by-side' : ''}">
${current ? html`<div><h3>${w('preview_current')}</h3>${alarmTable(i, current.result, current.rule, 'current')}</div>` : ''}
<div>${current ? html`<h3>${w('preview_new')}</h3>` : ''}${alarmTable(i, next.result, next.rule, 'new')}</div>
</div>
${charts.rows.map(
  (r) =>
    html`<div class="${current ? 'side-by-side' : ''}">${current ? chartDiv(r.current, w('preview_current')) : ''}${chartDiv(r.next, current ? w('preview_new') : '')}</div>`,
)}
</section>`;
}
