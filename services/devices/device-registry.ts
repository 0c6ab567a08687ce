// Device registry with an in-memory cache by id and devEui; invalidated on every change. [docs/api.md]
import { DEFAULT_ORG } from '../auth/orgs.ts';
import type { Db, Queryable } from '../db/db.ts';

export interface DeviceParams {
  mountHeightMm?: number;
  levelOffsetCm?: number;
  mmPerTip?: number;
  deadZoneMm?: number;
  codec?: string;
  [k: string]: unknown;
}

export interface Device {
  id: string;
  name: string;
  model: string;
  devEui: string | null;
  location: { lat: number; lon: number } | null;
  params: DeviceParams;
  tags: Record<string, string>;
  /** the municipality the device belongs to ('default' unless orgs are used) */
  org: string;
  /** published as open data: true/false, or null to follow the municipality's setting [migrations/011_open_data.sql] */
  public: boolean | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  model: string;
  dev_eui: string | null;
  location: Device['location'];
  params: DeviceParams;
  tags: Record<string, string>;
  org: string;
  public: boolean | null;
  created_at: Date;
  updated_at: Date;
}

const toDevice = (r: Row): Device => ({
  id: r.id,
  name: r.name,
  model: r.model,
  devEui: r.dev_eui,
  location: r.location,
  params: r.params ?? {},
  tags: r.tags ?? {},
  org: r.org ?? DEFAULT_ORG,
  public: r.public ?? null,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export const normEui = (eui: string): string => eui.replace(/[^0-9a-fA-F]/g, '').toUpperCase();

export class DeviceRegistry {
  private byId = new Map<string, Device>();
  private byEui = new Map<string, Device>();
  private listeners: Array<() => void> = [];

  constructor(private db: Db) {}

  /** Counts this process's committed writes, so a load() whose snapshot may predate one of them reads again. */
  private writes = 0;

  async load(): Promise<void> {
    // A write through this process can commit while the select runs on another connection (the config sync's
    // reload on PostgreSQL): the rows would then lack it, and replacing the cache with them would drop the
    // device just created until the next sync, its uplinks refused as unknown meanwhile. So read again
    // (a bounded number of times) when a write finished during the select.
    for (let attempt = 1; ; attempt++) {
      const seen = this.writes;
      const r = await this.db.query<Row>('select * from devices');
      if (seen !== this.writes && attempt < 5) continue;
      this.byId.clear();
      this.byEui.clear();
      for (const row of r.rows) this.cache(toDevice(row));
      return;
    }
  }

  /** load() and tell the listeners (rule engine scopes) that devices changed */
  async reload(): Promise<void> {
    await this.load();
    this.changed();
  }

  private cache(d: Device) {
    this.byId.set(d.id, d);
    if (d.devEui) this.byEui.set(d.devEui, d);
  }

  private uncache(id: string) {
    const d = this.byId.get(id);
    if (d?.devEui) this.byEui.delete(d.devEui);
    this.byId.delete(id);
  }

  onChange(fn: () => void) {
    this.listeners.push(fn);
  }
  private changed() {
    for (const fn of this.listeners) fn();
  }

  get(id: string): Device | undefined {
    return this.byId.get(id);
  }
  getByEui(eui: string): Device | undefined {
    return this.byEui.get(normEui(eui));
  }
  list(): Device[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
  get size() {
    return this.byId.size;
  }

  /**
   * Is this id free for `org`? Taken by any live device, or by a device another municipality deleted: readings
   * are keyed by device id, so the id stays with the municipality whose history it carries. [issue 11]
   */
  async idFree(id: string, org: string): Promise<boolean> {
    if (this.byId.has(id)) return false;
    const r = await this.db.query<{ org: string }>('select org from retired_device_ids where id = $1', [id]);
    return !r.rows[0] || r.rows[0].org === org;
  }

  // Writes run in their own transaction, with `inTx` (the audit row) inside it; the cache changes only after
  // the commit, so a write that fails halfway leaves no trace in memory either. [issue 11]

  async create(
    d: Omit<Device, 'createdAt' | 'updatedAt' | 'org' | 'public'> & { org?: string; public?: boolean | null },
    inTx?: (tx: Queryable) => Promise<void>,
  ): Promise<Device> {
    const dev = await this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(
        `insert into devices(id, name, model, dev_eui, location, params, tags, org, public) values ($1,$2,$3,$4,$5,$6,$7,$8,$9) returning *`,
        [
          d.id,
          d.name,
          d.model,
          d.devEui,
          d.location ? JSON.stringify(d.location) : null,
          JSON.stringify(d.params),
          JSON.stringify(d.tags),
          d.org ?? DEFAULT_ORG,
          d.public ?? null,
        ],
      );
      await inTx?.(tx);
      return toDevice(r.rows[0]);
    });
    this.cache(dev);
    this.writes++;
    this.changed();
    return dev;
  }

  async update(
    id: string,
    patch: Partial<Omit<Device, 'id' | 'createdAt' | 'updatedAt'>>,
    inTx?: (tx: Queryable) => Promise<void>,
  ): Promise<Device | undefined> {
    const cur = this.byId.get(id);
    if (!cur) return undefined;
    const next = { ...cur, ...patch, params: patch.params ? { ...cur.params, ...patch.params } : cur.params };
    const dev = await this.db.transaction(async (tx) => {
      const r = await tx.query<Row>(
        `update devices set name=$2, model=$3, dev_eui=$4, location=$5, params=$6, tags=$7, org=$8, public=$9, updated_at=now() where id=$1 returning *`,
        [
          id,
          next.name,
          next.model,
          next.devEui,
          next.location ? JSON.stringify(next.location) : null,
          JSON.stringify(next.params),
          JSON.stringify(next.tags),
          next.org,
          next.public,
        ],
      );
      if (!r.rows[0]) return undefined;
      await inTx?.(tx);
      return toDevice(r.rows[0]);
    });
    if (!dev) return undefined;
    this.uncache(id);
    this.cache(dev);
    this.writes++;
    this.changed();
    return dev;
  }

  /** Deletes the device; its id is retired to its municipality (see idFree). `inTx` runs while the row still exists. */
  async remove(id: string, inTx?: (tx: Queryable) => Promise<void>): Promise<boolean> {
    const ok = await this.db.transaction(async (tx) => {
      const r = await tx.query<{ org: string }>('select org from devices where id = $1 for update', [id]);
      if (!r.rows[0]) return false;
      await inTx?.(tx);
      await tx.query('delete from devices where id = $1', [id]);
      await tx.query(`insert into retired_device_ids(id, org) values ($1, $2) on conflict (id) do update set org = excluded.org, retired_at = now()`, [
        id,
        r.rows[0].org,
      ]);
      return true;
    });
    this.uncache(id);
    this.writes++;
    this.changed();
    return ok;
  }
}
