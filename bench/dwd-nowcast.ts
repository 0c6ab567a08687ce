// Bench: one DWD RV run (25 HDF5 members, 1200×1100) processed for 50 catchments in the fetch worker's code
// path (untar → h5wasm decode → area means). Reports CPU time and RSS growth. [docs/benchmarks.md]
//   npm run bench:nowcast

import { rvRunTar } from '../firmware-sim/nowcast/rv-files.ts';
import { circlePolygon } from '../services/dwd/catchment-service.ts';
import { buildMask } from '../services/dwd/nowcast.ts';
import { processRun } from '../services/dwd/nowcast-job.ts';

const RUNS = 3;
// a storm cell over Hessen: 8 mm in 5 min at its centre, drifting east
const rain = (row: number, col: number, lead: number) => {
  const d = Math.hypot(row - 640, col - (480 + lead / 5));
  return d < 40 ? 8 * Math.exp(-d / 12) : 0;
};

const t0 = Date.parse('2026-07-14T12:00:00Z');
const tarBytes = await rvRunTar(t0, rain, { r0: 560, r1: 720, c0: 400, c1: 600 });
const masks = Array.from({ length: 50 }, (_, i) =>
  buildMask({ id: `c${i}`, polygons: [circlePolygon(8 + (i % 10) * 0.2, 50 + Math.floor(i / 10) * 0.3, 4000)], bufferM: 1000, thresholdMm: 20 }),
);
const mb = (b: number) => Math.round(b / 1024 / 1024);
(globalThis as { gc?: () => void }).gc?.();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
let worstCpuMs = 0;
for (let k = 0; k < RUNS; k++) {
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const { forecasts, members } = await processRun(tarBytes, 'hdf5', masks);
  const cpu = process.cpuUsage(cpu0);
  peak = Math.max(peak, process.memoryUsage().rss);
  worstCpuMs = Math.max(worstCpuMs, (cpu.user + cpu.system) / 1000);
  const wettest = forecasts.reduce((a, b) => (b.forecast_60min_mm > a.forecast_60min_mm ? b : a));
  console.log(
    `run ${k + 1}: ${members} members, ${forecasts.length} catchments, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, wall ${(performance.now() - w0).toFixed(0)} ms, wettest ${wettest.catchmentId} ${wettest.forecast_60min_mm} mm/60 min`,
  );
}
console.log(`tar ${mb(tarBytes.length)} MB; RSS before ${mb(rss0)} MB, peak ${mb(peak)} MB, growth ${mb(peak - rss0)} MB`);
const met = worstCpuMs <= 2000 && peak - rss0 <= 60 * 1024 * 1024;
console.log(`target ≤ 2000 ms CPU per run and ≤ 60 MB RSS growth: ${met ? 'met' : 'NOT met'} (worst run ${worstCpuMs.toFixed(0)} ms)`);
