// Rain expected over a catchment from one RV run: a weight mask of grid cells per catchment (built once with
// proj4 from the file's projection), then per member an area mean over the mask. Only the current member's
// grid and the small per-catchment sums are held. [docs/dwd.md Radar nowcast] [docs/reference/dwd-inputs.md §2.5]
import proj4 from 'proj4';
import { COLS, DE1200_PROJ, type RadarGrid, ROWS } from './radar-decode.ts';

export interface CatchmentShape {
  id: string;
  /** outer ring(s) in WGS84 [lon, lat] (GeoJSON order); several polygons allowed */
  polygons: [number, number][][];
  /** cells whose centre lies within this distance of the polygon also count (nowcast displacement) */
  bufferM: number;
  /** minutes_to_threshold: first lead at which the cumulative depth reaches this (mm) */
  thresholdMm: number;
}

export interface CatchmentMask {
  id: string;
  cells: Int32Array;
  thresholdMm: number;
}

/** The grid cell (row from north, column) of a WGS84 point. Fulda 9.6753 E 50.5558 N → row 652, col 519. */
export function cellOf(lon: number, lat: number, projdef = DE1200_PROJ): { row: number; col: number } {
  const [x, y] = proj4(projdef).forward([lon, lat]);
  return { row: Math.round(-y / 1000), col: Math.round(x / 1000) };
}

function inRing(x: number, y: number, ring: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function distToRing(x: number, y: number, ring: [number, number][]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [ax, ay] = ring[j];
    const [bx, by] = ring[i];
    const dx = bx - ax;
    const dy = by - ay;
    const len = dx * dx + dy * dy;
    const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len));
    best = Math.min(best, Math.hypot(x - (ax + t * dx), y - (ay + t * dy)));
  }
  return best;
}

/** Cells whose centre is inside the polygon or within the buffer of it (each weighs the same, 1 km²). */
export function buildMask(c: CatchmentShape, projdef = DE1200_PROJ): CatchmentMask {
  const p = proj4(projdef);
  // projected rings in grid units (km): x = col, y = row
  const rings = c.polygons.map((ring) =>
    ring.map(([lon, lat]) => {
      const [x, y] = p.forward([lon, lat]);
      return [x / 1000, -y / 1000] as [number, number];
    }),
  );
  const buf = c.bufferM / 1000;
  const all = rings.flat();
  const minC = Math.max(0, Math.floor(Math.min(...all.map((v) => v[0])) - buf - 1));
  const maxC = Math.min(COLS - 1, Math.ceil(Math.max(...all.map((v) => v[0])) + buf + 1));
  const minR = Math.max(0, Math.floor(Math.min(...all.map((v) => v[1])) - buf - 1));
  const maxR = Math.min(ROWS - 1, Math.ceil(Math.max(...all.map((v) => v[1])) + buf + 1));
  const cells: number[] = [];
  for (let r = minR; r <= maxR; r++)
    for (let col = minC; col <= maxC; col++) {
      if (rings.some((ring) => inRing(col, r, ring) || (buf > 0 && distToRing(col, r, ring) <= buf))) cells.push(r * COLS + col);
    }
  // a catchment smaller than one cell still has the cell it lies in
  if (cells.length === 0 && all.length) cells.push(Math.round(all[0][1]) * COLS + Math.round(all[0][0]));
  return { id: c.id, cells: Int32Array.from(cells), thresholdMm: c.thresholdMm };
}

/** Area mean (mm) over the mask's cells with data, and the share of cells without data. */
export function areaMean(g: RadarGrid, m: CatchmentMask): { mm: number; missing: number } {
  let sum = 0;
  let n = 0;
  for (const i of m.cells) {
    const v = g.mm[i];
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return { mm: n ? sum / n : 0, missing: m.cells.length ? 1 - n / m.cells.length : 1 };
}

export interface CatchmentForecast {
  catchmentId: string;
  forecast_30min_mm: number;
  forecast_60min_mm: number;
  forecast_120min_mm: number;
  /** highest 5-min area mean of the run, as mm/h (× 12) */
  forecast_peak_mm_h: number;
  /** first lead (min) at which the cumulative depth reaches the catchment's threshold; 999 = not within 120 min */
  forecast_minutes_to_threshold: number;
  /** share of the catchment's cells without data, worst member, percent */
  forecast_missing_pct: number;
}

/** Adds up one run member by member; call add() per member (any order), then result(). */
export class RunAccumulator {
  private perLead = new Map<string, Map<number, number>>();
  private missing = new Map<string, number>();

  constructor(private masks: CatchmentMask[]) {}

  /** member _000 is the analysis (the past 5 min): it is not part of the forecast */
  add(g: RadarGrid): void {
    if (g.leadMin <= 0 || g.leadMin > 120) return;
    for (const m of this.masks) {
      const a = areaMean(g, m);
      let leads = this.perLead.get(m.id);
      if (!leads) this.perLead.set(m.id, (leads = new Map()));
      leads.set(g.leadMin, a.mm);
      this.missing.set(m.id, Math.max(this.missing.get(m.id) ?? 0, a.missing));
    }
  }

  result(): CatchmentForecast[] {
    return this.masks.map((m) => {
      const leads = [...(this.perLead.get(m.id) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]);
      const upTo = (L: number) => leads.filter(([l]) => l <= L).reduce((s, [, v]) => s + v, 0);
      let cum = 0;
      let reached = 999;
      for (const [l, v] of leads) {
        cum += v;
        if (cum >= m.thresholdMm) {
          reached = l;
          break;
        }
      }
      const r1 = (v: number) => Math.round(v * 100) / 100;
      return {
        catchmentId: m.id,
        forecast_30min_mm: r1(upTo(30)),
        forecast_60min_mm: r1(upTo(60)),
        forecast_120min_mm: r1(upTo(120)),
        forecast_peak_mm_h: r1(Math.max(0, ...leads.map(([, v]) => v * 12))),
        forecast_minutes_to_threshold: reached,
        forecast_missing_pct: Math.round((this.missing.get(m.id) ?? 1) * 1000) / 10,
      };
    });
  }
}
