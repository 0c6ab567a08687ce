// The synthetic nowcast storm: one convective cell (a disc of even heavy rain) moving from the west towards a
// catchment at a steady speed. The same model gives the DWD RV runs (what the radar nowcast would have said at
// each run's base time) and the rain the gauge in the catchment measures, so a forecast pre-warning and the
// gauge alarm come from one storm, in the storm's own time. [docs/dwd.md Radar nowcast] [firmware-sim/README.md]
import { cellOf } from '../../services/dwd/nowcast.ts';
import { type RainField, runStamp, rvMemberHdf5, tar } from './rv-files.ts';

export const MIN = 60_000;
export const RUN_STEP_MS = 5 * MIN;

export interface StormSpec {
  /** where the gauge (and the catchment's centre) is, WGS84 */
  lon: number;
  lat: number;
  /** storm time 0, on a whole 5 minutes: the first RV run's base time */
  startMs: number;
  /** distance of the cell's centre west of the gauge at startMs [km] */
  startKm: number;
  /** eastward speed [km/min] */
  speedKmMin: number;
  /** radius of the rain disc [km] */
  radiusKm: number;
  /** rain inside the disc [mm per 5 min] */
  mmPer5Min: number;
}

/** Gießen, Lahn-Nord: the cell reaches the gauge 30 min after the first run and passes in about 35 min. */
export const defaultStorm = (startMs: number): StormSpec => ({
  lon: 8.67,
  lat: 50.6,
  startMs,
  startKm: 20,
  speedKmMin: 0.4,
  radiusKm: 7,
  mmPer5Min: 5,
});

/** The simulator's storm: centred on the simulated gauges around Gießen (firmware-sim/setup.ts). */
export const nowcastStormFor = (startMs: number): StormSpec => ({ ...defaultStorm(startMs), lon: 8.67, lat: 50.58 });

export class NowcastStorm {
  readonly row: number;
  readonly col: number;
  constructor(readonly spec: StormSpec) {
    const c = cellOf(spec.lon, spec.lat);
    this.row = c.row;
    this.col = c.col;
  }

  /** the cell centre's eastward offset from the gauge [km] at time t */
  private centreKm(t: number): number {
    return -this.spec.startKm + (this.spec.speedKmMin * (t - this.spec.startMs)) / MIN;
  }

  /** rain [mm] in the 5 minutes ending at t, in grid cell (row, col): judged at the middle of the 5 minutes */
  rainAt(row: number, col: number, t: number): number {
    const x = col - this.col - this.centreKm(t - 2.5 * MIN);
    const y = row - this.row;
    return Math.hypot(x, y) <= this.spec.radiusKm ? this.spec.mmPer5Min : 0;
  }

  /** what the gauge measured in the 5 minutes ending at t [mm] */
  gaugeMm(t: number): number {
    return this.rainAt(this.row, this.col, t);
  }

  /** the field of the RV run with base time T (member _L = the 5 min ending at T + L); a perfect forecast */
  field(runT: number): RainField {
    return (row, col, lead) => this.rainAt(row, col, runT + lead * MIN);
  }

  /** the grid box the storm touches (writing only it keeps making a run fast) */
  box() {
    const r = Math.ceil(this.spec.radiusKm) + 2;
    const span = Math.ceil(this.spec.startKm + this.spec.speedKmMin * 200) + r;
    return { r0: this.row - r, r1: this.row + r, c0: this.col - Math.ceil(this.spec.startKm) - r, c1: this.col + span };
  }

  /** base time of run k (0 = the first) */
  runTime(k: number): number {
    return this.spec.startMs + k * RUN_STEP_MS;
  }

  /** member files by the end of their 5 minutes: run k's member _L is run k−1's member _(L+5) */
  private members = new Map<number, Promise<Uint8Array>>();

  /** run k as the DWD's tar (composite_rv_YYYYMMDD_HHMM.tar, 25 HDF5 members _000 … _120) */
  async runTar(k: number): Promise<Uint8Array> {
    const T = this.runTime(k);
    const files: { name: string; data: Uint8Array }[] = [];
    for (let lead = 0; lead <= 120; lead += 5) {
      const end = T + lead * MIN;
      let data = this.members.get(end);
      if (!data) {
        data = rvMemberHdf5((row, col) => this.rainAt(row, col, end), lead, this.box());
        this.members.set(end, data);
      }
      files.push({ name: `composite_rv_${runStamp(T)}_${String(lead).padStart(3, '0')}-hd5`, data: await data });
    }
    return tar(files);
  }
}
