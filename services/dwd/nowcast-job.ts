// The radar part of the fetch worker: finds the newest RV run (HDF5 tar; the RADOLAN binary as a fallback),
// decodes it member by member and sums it per catchment. One member grid (5 MB) at a time; nothing of a run
// is kept once its forecasts are posted. [docs/dwd.md Radar nowcast]
import { conditionalGet, type FetchLimits } from './http-source.ts';
import { buildMask, type CatchmentForecast, type CatchmentMask, type CatchmentShape, RunAccumulator } from './nowcast.ts';
import { bunzip2, decodeHdf5, decodeRadolan, leadOf, untar } from './radar-decode.ts';

export interface RadarJob {
  /** folder of composite_rv_YYYYMMDD_HHMM.tar (HDF5) */
  url: string;
  /** folder of DE1200_RV<yymmddHHMM>.tar.bz2 (binary), tried when the HDF5 run is missing or broken; '' = none */
  binaryUrl: string;
  intervalMs: number;
  /** runs looked for, newest first, this far back (DWD_RADAR_LOOKBACK; default 30 min) */
  lookbackMs?: number;
}

export interface NowcastRun {
  /** run base time T, epoch ms */
  run: number;
  format: 'hdf5' | 'binary';
  members: number;
  forecasts: CatchmentForecast[];
  cpuMs: number;
}

const STEP = 5 * 60_000;
/** runs looked for, newest first: a run appears some minutes after its base time */
const DEFAULT_LOOKBACK_MS = 30 * 60_000;
const MAX_TAR_BYTES = 128 * 1024 * 1024;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function hdf5Name(t: number): string {
  const d = new Date(t);
  return `composite_rv_${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}.tar`;
}
export function binaryName(t: number): string {
  const d = new Date(t);
  return `DE1200_RV${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}.tar.bz2`;
}

/** Decodes one run's container to per-catchment forecasts. */
export async function processRun(
  bytes: Uint8Array,
  format: 'hdf5' | 'binary',
  masks: CatchmentMask[],
): Promise<{ forecasts: CatchmentForecast[]; members: number }> {
  const acc = new RunAccumulator(masks);
  const files = untar(format === 'hdf5' ? bytes : bunzip2(bytes));
  let members = 0;
  for (const [name, data] of files) {
    const lead = leadOf(name);
    if (lead === undefined) continue;
    acc.add(format === 'hdf5' ? await decodeHdf5(data, lead) : decodeRadolan(data, lead));
    members++;
  }
  if (members === 0) throw new Error('the run holds no RV member');
  return { forecasts: acc.result(), members };
}

export class RadarPoller {
  private masks: CatchmentMask[] = [];
  private lastRun = Number.NEGATIVE_INFINITY;

  constructor(
    private job: RadarJob,
    private limits: FetchLimits,
  ) {}

  get catchmentCount(): number {
    return this.masks.length;
  }

  setCatchments(shapes: CatchmentShape[]): void {
    this.masks = shapes.map((s) => buildMask(s));
  }

  /** The newest run not yet processed, or undefined when none is newer. */
  async poll(now: number): Promise<NowcastRun | undefined> {
    const newest = Math.floor(now / STEP) * STEP;
    const errors: string[] = [];
    const lookback = Math.max(1, Math.floor((this.job.lookbackMs ?? DEFAULT_LOOKBACK_MS) / STEP));
    for (let k = 0; k < lookback; k++) {
      const t = newest - k * STEP;
      if (t <= this.lastRun) return undefined;
      for (const format of ['hdf5', 'binary'] as const) {
        const base = format === 'hdf5' ? this.job.url : this.job.binaryUrl;
        if (!base) continue;
        const url = `${base.replace(/\/$/, '')}/${format === 'hdf5' ? hdf5Name(t) : binaryName(t)}`;
        try {
          const r = await conditionalGet(url, {}, { ...this.limits, maxBytes: MAX_TAR_BYTES });
          if (r.status !== 'new') continue;
          const t0 = process.cpuUsage();
          const { forecasts, members } = await processRun(r.bytes, format, this.masks);
          const cpu = process.cpuUsage(t0);
          this.lastRun = t;
          return { run: t, format, members, forecasts, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
        } catch (e) {
          errors.push(`${url}: ${(e as Error).message}`);
        }
      }
    }
    if (errors.length) throw new Error(errors.slice(0, 3).join('; '));
    return undefined;
  }
}
