import type { Db, Queryable } from '../db/db.ts';

export interface CodecDef {
  id: string;
  source: string;
  fieldMap: Record<string, string>;
  updatedAt: string;
}

/** Uploaded `decodeUplink` codecs (js-codec model), cached; devices name theirs in params.codec. */
export class CodecStore {
  private cache = new Map<string, CodecDef>();
  constructor(private db: Db) {}

  async load() {
    const r = await this.db.query<{ id: string; source: string; field_map: Record<string, string>; updated_at: Date }>('select * from codecs');
    this.cache = new Map(r.rows.map((x) => [x.id, { id: x.id, source: x.source, fieldMap: x.field_map, updatedAt: new Date(x.updated_at).toISOString() }]));
  }
  get(id: string) {
    return this.cache.get(id);
  }
  list() {
    return [...this.cache.values()].map(({ source, ...rest }) => ({ ...rest, sourceBytes: Buffer.byteLength(source) }));
  }
  async save(q: Queryable, id: string, source: string, fieldMap: Record<string, string>) {
    await q.query(
      `insert into codecs(id, source, field_map) values ($1,$2,$3)
       on conflict (id) do update set source = excluded.source, field_map = excluded.field_map, updated_at = now()`,
      [id, source, JSON.stringify(fieldMap)],
    );
    this.cache.set(id, { id, source, fieldMap, updatedAt: new Date().toISOString() });
  }
  async remove(q: Queryable, id: string) {
    const r = await q.query('delete from codecs where id = $1', [id]);
    this.cache.delete(id);
    return r.rowCount > 0;
  }
}
