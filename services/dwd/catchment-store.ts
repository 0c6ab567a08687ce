// Catchments in SQL (migrations/012_catchments.sql). [docs/dwd.md Catchments]
import type { Db } from '../db/db.ts';

export interface Catchment {
  id: string;
  org: string;
  name: string;
  /** GeoJSON Polygon or MultiPolygon, WGS84 */
  geometry: { type: 'Polygon'; coordinates: [number, number][][] } | { type: 'MultiPolygon'; coordinates: [number, number][][][] };
  bufferM: number;
  thresholdMm: number;
  deviceIds: string[];
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  org: string;
  name: string;
  geometry: Catchment['geometry'];
  buffer_m: number;
  threshold_mm: number;
  device_ids: string[];
  created_at: Date;
  updated_at: Date;
}

const toCatchment = (r: Row): Catchment => ({
  id: r.id,
  org: r.org,
  name: r.name,
  geometry: r.geometry,
  bufferM: r.buffer_m,
  thresholdMm: Number(r.threshold_mm),
  deviceIds: r.device_ids ?? [],
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export type CatchmentInput = Pick<Catchment, 'id' | 'org' | 'name' | 'geometry' | 'bufferM' | 'thresholdMm' | 'deviceIds'>;

export class CatchmentStore {
  private listeners: Array<() => void> = [];
  constructor(private db: Db) {}

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }
  private changed() {
    for (const fn of this.listeners) fn();
  }

  async list(org: string | null = null): Promise<Catchment[]> {
    const r = await this.db.query<Row>('select * from catchments where ($1::text is null or org = $1) order by id', [org]);
    return r.rows.map(toCatchment);
  }

  async get(id: string): Promise<Catchment | undefined> {
    const r = await this.db.query<Row>('select * from catchments where id = $1', [id]);
    return r.rows[0] ? toCatchment(r.rows[0]) : undefined;
  }

  /** Inserts or replaces; resolves false when the id belongs to another municipality. */
  async put(c: CatchmentInput): Promise<Catchment | undefined> {
    const r = await this.db.query<Row>(
      `insert into catchments(id, org, name, geometry, buffer_m, threshold_mm, device_ids) values ($1,$2,$3,$4,$5,$6,$7)
       on conflict (id) do update set name = excluded.name, geometry = excluded.geometry, buffer_m = excluded.buffer_m,
         threshold_mm = excluded.threshold_mm, device_ids = excluded.device_ids, updated_at = now()
       where catchments.org = excluded.org
       returning *`,
      [c.id, c.org, c.name, JSON.stringify(c.geometry), c.bufferM, c.thresholdMm, c.deviceIds],
    );
    if (r.rows[0]) this.changed();
    return r.rows[0] ? toCatchment(r.rows[0]) : undefined;
  }

  async remove(id: string, org: string | null): Promise<boolean> {
    const r = await this.db.query<{ id: string }>('delete from catchments where id = $1 and ($2::text is null or org = $2) returning id', [id, org]);
    if (r.rows.length) this.changed();
    return r.rows.length > 0;
  }
}
