// Replay of recorded readings: CSV rows `time,device,metric,value` (header optional). Rain arrives as
// rain_mm per interval and is accumulated, so the simulated gauge still reports a tip counter.
import { readFileSync } from 'node:fs';
import type { Scenario, Truth } from './types.ts';

export interface ReplayRow {
  time: number;
  device: string;
  metric: string;
  value: number;
}

const METRICS = new Set(['rain_mm', 'level_cm', 'distance_mm', 'pressure_bar', 'battery_v', 'temperature_c']);

export function parseReplayCsv(text: string, source = 'replay CSV'): ReplayRow[] {
  const rows: ReplayRow[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const cells = line.split(line.includes(';') ? ';' : ',').map((c) => c.trim());
    if (i === 0 && /^time$/i.test(cells[0])) continue;
    if (cells.length < 4) throw new Error(`${source}: line ${i + 1}: expected time,device,metric,value`);
    const [t, device, metric, v] = cells;
    const time = /^\d+$/.test(t) ? Number(t) * (t.length <= 10 ? 1000 : 1) : Date.parse(t);
    if (!Number.isFinite(time)) throw new Error(`${source}: line ${i + 1}: bad time "${t}"`);
    if (!METRICS.has(metric)) throw new Error(`${source}: line ${i + 1}: metric "${metric}" is not one of ${[...METRICS].join(', ')}`);
    const value = Number(v);
    if (!Number.isFinite(value)) throw new Error(`${source}: line ${i + 1}: bad value "${v}"`);
    rows.push({ time, device, metric, value });
  }
  if (rows.length === 0) throw new Error(`${source}: no rows`);
  return rows;
}

/** Devices in order of first appearance become sim devices 1..n. */
export function replayScenario(rows: ReplayRow[]): Scenario & { deviceNames: string[] } {
  const deviceNames = [...new Set(rows.map((r) => r.device))];
  const t0 = Math.min(...rows.map((r) => r.time));
  const t1 = Math.max(...rows.map((r) => r.time));
  const perDevice = deviceNames.map((name) => {
    const byTime = new Map<number, Truth>();
    let rainCum = 0;
    for (const r of rows.filter((x) => x.device === name).sort((a, b) => a.time - b.time)) {
      const off = r.time - t0;
      const truth = byTime.get(off) ?? {};
      if (r.metric === 'rain_mm') truth.rainCumMm = rainCum = Math.round((rainCum + r.value) * 1e6) / 1e6;
      else if (r.metric === 'level_cm') truth.levelCm = r.value;
      else if (r.metric === 'pressure_bar')
        truth.levelCm = r.value * 1019.72; // [docs/topics.md] fresh water
      else if (r.metric === 'distance_mm') truth.distanceMm = r.value;
      else if (r.metric === 'battery_v') truth.batteryV = r.value;
      else if (r.metric === 'temperature_c') truth.temperatureC = r.value;
      byTime.set(off, truth);
    }
    // carry the last known values forward so every reading is complete
    const offsets = [...byTime.keys()].sort((a, b) => a - b);
    let last: Truth = { rainCumMm: 0 };
    for (const off of offsets) byTime.set(off, (last = { ...last, ...byTime.get(off) }));
    return { offsets, byTime };
  });
  return {
    name: 'replay',
    spanMs: t1 - t0,
    deviceNames,
    describe: `replay of ${rows.length} rows from ${deviceNames.length} device(s)`,
    offsets: (d) => perDevice[d].offsets,
    truth: (d, off) => perDevice[d].byTime.get(off) ?? {},
  };
}

export const loadReplay = (path: string): ReplayRow[] => parseReplayCsv(readFileSync(path, 'utf8'), path);
