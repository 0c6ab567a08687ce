// Answers a SensorThings GET: resolves the resource path step by step (each entity must exist and be public,
// else 404), runs the page query with the query options, expands navigation properties, and builds the
// response with @iot.count, @iot.nextLink and @iot.selfLink. [OGC 18-088 §9]
import type { Queryable } from '../../db/db.ts';
import { entityJson, propertyNames, rowId, selfLink } from './entity-json.ts';
import { ENTITIES, ENTITY_SETS, type EntityDef, type EntitySet, isEntitySet } from './entity-store.ts';
import { StaQueryError } from './filter-parser.ts';
import { DEFAULT_TOP, type ExpandItem, parseOptions, type QueryOptions } from './query-options.ts';
import { type PathStep, parseResourcePath } from './resource-path.ts';
import { type Constraint, countRows, exactKeyCol, findRows, type KeyCol, keysetColumns, type Row, relatedRows } from './sta-queries.ts';

export class StaNotFound extends Error {}

/** The conformance classes this server implements, listed in the service root. [OGC 18-088 §9.2.1] */
export const CONFORMANCE = [
  'http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities',
  'http://www.opengis.net/spec/iot_sensing/1.1/req/request-data',
  'https://fraunhoferiosb.github.io/FROST-Server/extensions/ResultFormatCSV.html',
  'https://fraunhoferiosb.github.io/FROST-Server/extensions/ResultFormatGeoJSON.html',
];

export type StaResult =
  | { kind: 'json'; body: unknown; lastModified?: Date }
  | { kind: 'value'; body: string }
  | { kind: 'collection'; set: EntitySet; value: Record<string, unknown>[]; format?: 'CSV' | 'GeoJSON'; body: Record<string, unknown> };

interface Target {
  def: EntityDef;
  where: Constraint[];
  /** the request names one entity (by id or a to-one navigation) */
  single: boolean;
  /** the single entity's row, once fetched */
  row?: Row;
  path: string;
}

export class StaService {
  constructor(
    private db: Queryable,
    private base: string,
  ) {}

  root(): unknown {
    return {
      value: ENTITY_SETS.map((name) => ({ name, url: `${this.base}/${name}` })),
      serverSettings: { conformance: CONFORMANCE },
    };
  }

  async get(path: string, raw: Map<string, string>): Promise<StaResult> {
    const steps = parseResourcePath(path);
    if (steps.length === 0) return { kind: 'json', body: this.root() };
    const opts = parseOptions(raw);
    const { target, tail } = await this.resolve(steps);
    if (tail.length) return this.tail(target, tail);
    if (target.single) {
      const row = target.row as Row;
      checkSelect(target.def.set, opts.select);
      const json = entityJson(this.base, target.def.set, row, opts.select);
      await this.expand(target.def, [row], [json], opts.expand);
      return { kind: 'json', body: json };
    }
    return this.collection(target, opts);
  }

  /** Walks the path: sets, ids and navigation properties; each single entity on the way must exist. */
  private async resolve(steps: PathStep[]): Promise<{ target: Target; tail: PathStep[] }> {
    const first = steps[0];
    if (first.k !== 'set' || !isEntitySet(first.name)) {
      throw new StaNotFound(`no entity set '${first.k === 'set' ? first.name : '$'}' (there are ${ENTITY_SETS.join(', ')})`);
    }
    let t: Target = { def: ENTITIES[first.name], where: [], single: false, path: first.name };
    let i = 1;
    for (; i < steps.length; i++) {
      const s = steps[i];
      if (s.k === 'id') {
        if (t.single) throw new StaQueryError('an id can follow only a collection');
        const key = t.def.parseId(s.id);
        if (!key) throw new StaNotFound(`no ${t.def.type} with id '${s.id}'`);
        t = { ...t, where: [...t.where, { cols: t.def.key, values: key }], single: true, path: `${t.path}('${s.id}')` };
        t.row = await this.one(t, `no ${t.def.type} with id '${s.id}'`, this.passedThrough(t.def, steps[i + 1]));
        continue;
      }
      if (s.k !== 'set') break;
      const nav = t.def.nav[s.name];
      if (!nav) break; // a property or a mistake: left to tail()
      if (!t.single) throw new StaQueryError(`navigation '${s.name}' needs one entity before it, e.g. ${t.def.set}('…')/${s.name}`);
      const row = t.row as Row;
      const next: Target = {
        def: ENTITIES[nav.target],
        where: [{ cols: nav.remote, values: nav.local.map((c) => row[c]) }],
        single: !nav.many,
        path: `${t.path}/${s.name}`,
      };
      if (next.single) next.row = await this.one(next, `${t.def.type} has no ${s.name}`, this.passedThrough(next.def, steps[i + 1]));
      t = next;
    }
    return { target: t, tail: steps.slice(i) };
  }

  /** The entity is only passed through when the next step navigates on from it (its own fields are not shown). */
  private passedThrough(def: EntityDef, next: PathStep | undefined): boolean {
    return next?.k === 'set' && !!def.nav[next.name];
  }

  private async one(t: Target, missing: string, lite = false): Promise<Row> {
    const rows = await findRows(this.db, { def: t.def, where: t.where, orderby: [], limit: 1, offset: 0, lite });
    if (!rows[0]) throw new StaNotFound(missing);
    return rows[0];
  }

  /** `…/$ref`, `…/property` and `…/property/$value`. */
  private async tail(t: Target, tail: PathStep[]): Promise<StaResult> {
    const [a, b, ...more] = tail;
    if (a.k === 'ref' && !b) {
      if (t.single) return { kind: 'json', body: { '@iot.selfLink': selfLink(this.base, t.def.set, rowId(t.def.set, t.row as Row)) } };
      const opts = parseOptions(new Map());
      const rows = await findRows(this.db, { def: t.def, where: t.where, orderby: [], limit: opts.top ?? DEFAULT_TOP, offset: 0 });
      return { kind: 'json', body: { value: rows.map((r) => ({ '@iot.selfLink': selfLink(this.base, t.def.set, rowId(t.def.set, r)) })) } };
    }
    if (a.k === 'set' && t.single && !more.length && (!b || b.k === 'value')) {
      const json = entityJson(this.base, t.def.set, t.row as Row);
      const name = a.name === 'id' ? '@iot.id' : a.name;
      if (!propertyNames(t.def.set).includes(a.name) && name !== '@iot.id') throw new StaNotFound(`${t.def.type} has no property '${a.name}'`);
      if (b) {
        const v = json[name];
        return { kind: 'value', body: v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v) };
      }
      return { kind: 'json', body: { [name]: json[name] } };
    }
    throw new StaNotFound(
      `no resource at '${t.path}/${tail.map((s) => (s.k === 'set' ? s.name : s.k === 'ref' ? '$ref' : s.k === 'value' ? '$value' : '')).join('/')}'`,
    );
  }

  private async collection(t: Target, o: QueryOptions): Promise<StaResult> {
    checkSelect(t.def.set, o.select);
    const top = o.top ?? DEFAULT_TOP;
    const keys = keysetColumns(t.def, o.orderby);
    let after: { keys: KeyCol[]; values: unknown[] } | undefined;
    if (o.skiptoken !== undefined) {
      if (!keys) throw new StaQueryError('$skiptoken cannot be used with this $orderby; follow @iot.nextLink as given');
      after = { keys, values: decodeSkiptoken(o.skiptoken, keys) };
    }
    const rows = await findRows(this.db, { def: t.def, where: t.where, filter: o.filter, orderby: o.orderby, limit: top + 1, offset: o.skip, after });
    const more = rows.length > top;
    const page = rows.slice(0, top);
    const value = page.map((r) => entityJson(this.base, t.def.set, r, o.select));
    await this.expand(t.def, page, value, o.expand);
    const body: Record<string, unknown> = {};
    if (o.count) body['@iot.count'] = await countRows(this.db, t.def, t.where, o.filter);
    if (more) body['@iot.nextLink'] = nextLink(`${this.base}/${t.path}`, o.raw, top, o.skip + top, keys, page.at(-1));
    body.value = value;
    return { kind: 'collection', set: t.def.set, value, format: o.resultFormat, body };
  }

  /** Adds the expanded navigation properties to each parent's JSON, with nested options applied. */
  private async expand(def: EntityDef, rows: Row[], json: Record<string, unknown>[], items: ExpandItem[]): Promise<void> {
    for (const raw of items) {
      const item = normalise(raw);
      const name = item.path[0];
      const nav = def.nav[name];
      if (!nav) throw new StaQueryError(`${def.type} has no navigation property '${name}' to expand (it has ${Object.keys(def.nav).join(', ')})`);
      const target = ENTITIES[nav.target];
      const o = item.options;
      checkSelect(target.set, o.select);
      const top = nav.many ? (o.top ?? DEFAULT_TOP) : 1;
      const keyCols = keysetColumns(target, o.orderby);
      const keys = rows.map((r) => nav.local.map((c) => r[c]));
      const { rows: children, counts } = await relatedRows(this.db, target, nav.remote, keys, {
        filter: o.filter,
        orderby: o.orderby,
        limit: nav.many ? top + 1 : 1,
        offset: nav.many ? o.skip : 0,
        count: nav.many && o.count,
      });
      const byParent = new Map<number, Row[]>();
      for (const c of children) {
        const p = Number(c._parent);
        const list = byParent.get(p) ?? [];
        list.push(c);
        byParent.set(p, list);
      }
      // every parent's children expanded further in one go
      const allRows: Row[] = [];
      const allJson: Record<string, unknown>[] = [];
      for (let i = 0; i < rows.length; i++) {
        const list = byParent.get(i) ?? [];
        const shown = list.slice(0, top);
        const childJson = shown.map((r) => entityJson(this.base, target.set, r, o.select));
        allRows.push(...shown);
        allJson.push(...childJson);
        if (nav.many) {
          if (o.count) json[i][`${name}@iot.count`] = counts.get(i) ?? 0;
          json[i][name] = childJson;
          if (list.length > top)
            json[i][`${name}@iot.nextLink`] = nextLink(
              `${selfLink(this.base, def.set, rowId(def.set, rows[i]))}/${name}`,
              o.raw,
              top,
              o.skip + top,
              keyCols,
              shown.at(-1),
            );
        } else json[i][name] = childJson[0] ?? null;
      }
      if (o.expand.length) await this.expand(target, allRows, allJson, o.expand);
    }
  }
}

/** `$expand=Datastreams/Observations` is `$expand=Datastreams($expand=Observations)`. */
function normalise(item: ExpandItem): ExpandItem {
  if (item.path.length === 1) return item;
  return { path: [item.path[0]], options: { ...parseOptions(new Map()), expand: [{ path: item.path.slice(1), options: item.options }] } };
}

function checkSelect(set: EntitySet, select: string[] | undefined) {
  if (!select) return;
  const ok = new Set([...propertyNames(set), ...Object.keys(ENTITIES[set].nav), '@iot.id', 'id', '@iot.selfLink']);
  const bad = select.filter((s) => !ok.has(s));
  if (bad.length) throw new StaQueryError(`$select: ${ENTITIES[set].type} has no property ${bad.map((b) => `'${b}'`).join(', ')}`);
}

/**
 * The next page's URL: the request's options with `$skiptoken` (a cursor after the page's last row) when the
 * order allows a keyset, else with `$skip` moved on. Clients follow it as given [OGC 18-088 §9.3.3.7: the
 * nextLink is opaque]; a deep page then costs one index descent instead of skipping 100 000 rows.
 */
function nextLink(url: string, raw: Map<string, string>, top: number, skip: number, keys?: KeyCol[], last?: Row): string {
  const params: string[] = [];
  const keyset = keys && last;
  for (const [k, v] of raw) if (k !== '$top' && k !== '$skip' && k !== '$skiptoken') params.push(`${k}=${encodeURIComponent(v)}`);
  if (keyset) params.push(`$top=${top}`, `$skiptoken=${encodeSkiptoken(keys, last)}`);
  else params.push(`$top=${top}`, `$skip=${skip}`);
  return `${url}?${params.join('&')}`;
}

const orderSignature = (keys: KeyCol[]) => keys.map((k) => `${k.desc ? '-' : '+'}${k.col}`).join(',');

/**
 * base64url of {o: the order it belongs to, v: the last row's values}: opaque, and checked when it returns. A time
 * is the exact text to the microsecond (tokens made before, to the millisecond, are still read as they were).
 */
function encodeSkiptoken(keys: KeyCol[], row: Row): string {
  const v = keys.map((k) => {
    const x = row[k.col];
    const exact = row[exactKeyCol(k.col)];
    if (k.type === 'time') return typeof exact === 'string' ? exact : new Date(x as string).toISOString();
    return k.type === 'number' ? Number(x) : String(x);
  });
  return Buffer.from(JSON.stringify({ o: orderSignature(keys), v })).toString('base64url');
}

function decodeSkiptoken(token: string, keys: KeyCol[]): unknown[] {
  const bad = () => new StaQueryError('invalid $skiptoken: follow @iot.nextLink as given, with the same $orderby');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const t = parsed as { o?: unknown; v?: unknown };
  if (!t || t.o !== orderSignature(keys) || !Array.isArray(t.v) || t.v.length !== keys.length) throw bad();
  return keys.map((k, i) => {
    const x = (t.v as unknown[])[i];
    if (k.type === 'number' ? typeof x !== 'number' || !Number.isFinite(x) : typeof x !== 'string') throw bad();
    if (k.type === 'time' && Number.isNaN(new Date(x as string).getTime())) throw bad();
    return x;
  });
}
