// The radar nowcast per catchment as readings of the catchment's virtual device `catchment-<id>`, stamped with
// the run's base time: forecast_30min_mm, forecast_60min_mm, forecast_120min_mm, forecast_peak_mm_h,
// forecast_minutes_to_threshold, forecast_missing_pct. Every rule kind, backtest and chart works on them as on a
// gauge; an `offline` rule on these devices is the alarm for runs that stop arriving. [docs/dwd.md Radar nowcast]
import type { Logger } from 'pino';
import type { Reading } from '../../alerts/types.ts';
import type { DeviceRegistry } from '../devices/device-registry.ts';
import { nowcastDeviceId, ringsOf } from './catchment-service.ts';
import type { CatchmentStore } from './catchment-store.ts';
import type { CatchmentShape } from './nowcast.ts';
import type { NowcastRun } from './nowcast-job.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

export const FORECAST_METRICS = [
  'forecast_30min_mm',
  'forecast_60min_mm',
  'forecast_120min_mm',
  'forecast_peak_mm_h',
  'forecast_minutes_to_threshold',
  'forecast_missing_pct',
] as const;

/** a run whose catchment misses more than this share of cells is flagged in the quality bits (not evaluated) */
export const DEGRADED_MISSING_PCT = 50;
const QUALITY_OUT_OF_RANGE = 1;

export interface NowcastFeedOptions {
  store: CatchmentStore;
  devices: DeviceRegistry;
  write: (rs: Reading[]) => Promise<unknown>;
  post: (m: ToWorker) => void;
  log: Logger;
}

export class NowcastFeed {
  private lastRun: NowcastRun | undefined;
  private lastError: { at: number; message: string } | null = null;

  constructor(private o: NowcastFeedOptions) {}

  /** Sends the current catchments to the worker (at start and after every change). */
  reload(): void {
    void this.o.store
      .list()
      .then((cs) => {
        const shapes: CatchmentShape[] = cs.map((c) => ({ id: c.id, polygons: ringsOf(c.geometry), bufferM: c.bufferM, thresholdMm: c.thresholdMm }));
        this.o.post({ type: 'catchments', catchments: shapes });
      })
      .catch((e) => this.o.log.warn({ err: (e as Error).message }, 'catchments not loaded for the nowcast'));
  }

  onMessage(m: FromWorker): void {
    if (m.type === 'error' && m.source === 'radar') {
      this.lastError = { at: m.at, message: m.message };
      this.o.log.warn({ err: m.message }, 'DWD radar nowcast not fetched');
      return;
    }
    if (m.type !== 'nowcast') return;
    const r = m.result;
    if (this.lastRun && r.run <= this.lastRun.run) return;
    this.lastRun = r;
    const readings: Reading[] = [];
    for (const f of r.forecasts) {
      const deviceId = nowcastDeviceId(f.catchmentId);
      if (!this.o.devices.get(deviceId)) continue;
      // a catchment mostly without radar data is a degraded forecast: stored, shown, never evaluated
      const quality = f.forecast_missing_pct > DEGRADED_MISSING_PCT ? QUALITY_OUT_OF_RANGE : 0;
      for (const metric of FORECAST_METRICS)
        readings.push({ deviceId, metric, time: r.run, value: f[metric], quality: metric === 'forecast_missing_pct' ? 0 : quality });
    }
    this.o.log.info(
      { run: new Date(r.run).toISOString(), format: r.format, members: r.members, catchments: r.forecasts.length, cpuMs: r.cpuMs },
      'DWD nowcast run',
    );
    if (readings.length) void this.o.write(readings).catch((e) => this.o.log.warn({ err: (e as Error).message }, 'nowcast readings not stored'));
  }

  status() {
    return {
      lastRun: this.lastRun ? new Date(this.lastRun.run).toISOString() : null,
      format: this.lastRun?.format ?? null,
      members: this.lastRun?.members ?? 0,
      lastError: this.lastError && { at: new Date(this.lastError.at).toISOString(), message: this.lastError.message },
    };
  }
}
