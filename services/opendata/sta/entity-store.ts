// The SensorThings entity sets as SQL relations over Regenwacht's tables, restricted to what is public: a device
// appears only when its municipality has open data on and the device is not marked `public: false`; only
// quality-checked readings of published metrics are Observations. Every query the STA runs selects from these
// relations, so a hidden device cannot leak through navigation, $expand or $filter. [OGC 18-088 §8.2]
import { EVALUATED_QUALITIES } from '../quality-sql.ts';
import { OM_MEASUREMENT, PUBLISHED_METRICS, SENSORS } from './vocabulary.ts';

/** Collects bind parameters; every value from a request goes through `p`, never into the SQL text. */
export class SqlParams {
  readonly values: unknown[] = [];
  private memo = new Map<string, string>();
  p(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
  /** one parameter shared by every use in the query (the constant vocabulary tables) */
  once(key: string, v: () => unknown): string {
    let ref = this.memo.get(key);
    if (!ref) {
      ref = this.p(v());
      this.memo.set(key, ref);
    }
    return ref;
  }
}

export const ENTITY_SETS = [
  'Things',
  'Locations',
  'HistoricalLocations',
  'Datastreams',
  'Sensors',
  'ObservedProperties',
  'Observations',
  'FeaturesOfInterest',
] as const;
export type EntitySet = (typeof ENTITY_SETS)[number];

export type ColType = 'string' | 'number' | 'time' | 'interval' | 'json' | 'geo';

export interface PropDef {
  type: ColType;
  /** column of the relation; for intervals the start and end columns; for geo the lon/lat columns */
  col?: string;
  /** or an expression over the relation's alias (computed only where a filter or order needs it) */
  sql?: (alias: string) => string;
  start?: string;
  end?: string;
}

export interface NavDef {
  target: EntitySet;
  many: boolean;
  /** columns of this entity equal to `remote` columns of the target */
  local: string[];
  remote: string[];
}

export interface EntityDef {
  set: EntitySet;
  type: string;
  /**
   * SQL of the relation (a select), using `q` for its constant tables. `lite`: the row is only a step on a
   * navigation path (its keys are needed, not its computed properties, e.g. a Datastream's time range).
   */
  relation(q: SqlParams, opts?: { lite?: boolean }): string;
  /** columns that identify a row */
  key: string[];
  /** @iot.id → key values; undefined when it cannot be an id of this set */
  parseId(id: string): unknown[] | undefined;
  props: Record<string, PropDef>;
  nav: Record<string, NavDef>;
  /** default order (FROST orders by id; for Observations phenomenonTime first, so paging follows time) */
  order: string[];
  /** further columns that are never null (with `key` and `order`: what a keyset @iot.nextLink may resume on) */
  notNull?: string[];
}

const EVALUATED = `r.quality in (${EVALUATED_QUALITIES.join(', ')})`;
const PUBLIC_DEVICES = `select d.* from devices d join org_open_data o on o.org = d.org where o.enabled and coalesce(d.public, true)`;
const ISO = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const LON = `(d.location->>'lon')::float8`;
const LAT = `(d.location->>'lat')::float8`;

/** One index probe. (An EXISTS would be planned as a semi-join over every reading of the device: 160 ms for a year.) */
const hasReadings = (device: string, metric: string) => `(select true from readings r where r.device_id = ${device} and r.metric = ${metric} limit 1)`;

const metricsTable = (q: SqlParams) =>
  `jsonb_to_recordset(${q.once('metrics', () =>
    JSON.stringify(
      PUBLISHED_METRICS.map((m) => ({
        metric: m.metric,
        name: m.name,
        description: m.description,
        definition: m.definition,
        unit: m.unit,
      })),
    ),
  )}::jsonb) as m(metric text, name text, description text, definition text, unit jsonb)`;
const publishedMetrics = (q: SqlParams) => `${q.once('metric-names', () => PUBLISHED_METRICS.map((m) => m.metric))}::text[]`;
const sensorsTable = (q: SqlParams) =>
  `jsonb_to_recordset(${q.once('sensors', () =>
    JSON.stringify(Object.entries(SENSORS).map(([id, s]) => ({ id, ...s }))),
  )}::jsonb) as s(id text, name text, description text, metadata text)`;

const single = (id: string) => [id];
const pair = (id: string): unknown[] | undefined => {
  const i = id.lastIndexOf('~');
  return i > 0 ? [id.slice(0, i), id.slice(i + 1)] : undefined;
};

export const ENTITIES: Record<EntitySet, EntityDef> = {
  Things: {
    set: 'Things',
    type: 'Thing',
    relation: () =>
      `select d.id, d.name, 'Messstelle ' || d.name as description, jsonb_build_object('municipality', d.org) as properties, d.org
       from (${PUBLIC_DEVICES}) d`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      description: { type: 'string', col: 'description' },
      properties: { type: 'json', col: 'properties' },
    },
    nav: {
      Locations: { target: 'Locations', many: true, local: ['id'], remote: ['thing_id'] },
      HistoricalLocations: { target: 'HistoricalLocations', many: true, local: ['id'], remote: ['thing_id'] },
      Datastreams: { target: 'Datastreams', many: true, local: ['id'], remote: ['thing_id'] },
    },
    order: ['id'],
  },
  Locations: {
    set: 'Locations',
    type: 'Location',
    relation: () =>
      `select d.id, d.id as thing_id, 'Standort ' || d.name as name, 'Standort der Messstelle ' || d.name as description,
         'application/geo+json' as encoding_type, ${LON} as lon, ${LAT} as lat, d.org
       from (${PUBLIC_DEVICES}) d where d.location is not null`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      description: { type: 'string', col: 'description' },
      encodingType: { type: 'string', col: 'encoding_type' },
      location: { type: 'geo', start: 'lon', end: 'lat' },
    },
    nav: {
      Things: { target: 'Things', many: true, local: ['thing_id'], remote: ['id'] },
      HistoricalLocations: { target: 'HistoricalLocations', many: true, local: ['id'], remote: ['location_id'] },
    },
    order: ['id'],
  },
  HistoricalLocations: {
    set: 'HistoricalLocations',
    type: 'HistoricalLocation',
    // Regenwacht keeps only a station's current place: one HistoricalLocation per Thing, since its last change
    relation: () => `select d.id, d.id as thing_id, d.id as location_id, d.updated_at as time, d.org from (${PUBLIC_DEVICES}) d where d.location is not null`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      time: { type: 'time', col: 'time' },
    },
    nav: {
      Thing: { target: 'Things', many: false, local: ['thing_id'], remote: ['id'] },
      Locations: { target: 'Locations', many: true, local: ['location_id'], remote: ['id'] },
    },
    order: ['id'],
  },
  Datastreams: {
    set: 'Datastreams',
    type: 'Datastream',
    relation: (q, opts) =>
      `select d.id || '~' || m.metric as id, d.id as thing_id, d.model as sensor_id, m.metric as op_id,
         d.name || ': ' || m.name as name, m.name || ' an der Messstelle ' || d.name as description,
         '${OM_MEASUREMENT}' as observation_type, m.unit as unit, ${LON} as lon, ${LAT} as lat,
         jsonb_build_object('metric', m.metric, 'municipality', d.org) as properties, d.org,
         ${
           opts?.lite
             ? 'null::timestamptz as pt_start, null::timestamptz as pt_end'
             : `(select min(r.time) from readings r where r.device_id = d.id and r.metric = m.metric and ${EVALUATED}) as pt_start,
         (select max(r.time) from readings r where r.device_id = d.id and r.metric = m.metric and ${EVALUATED}) as pt_end`
         }
       from (${PUBLIC_DEVICES}) d cross join ${metricsTable(q)}
       where ${hasReadings('d.id', 'm.metric')}`,
    key: ['thing_id', 'op_id'],
    parseId: pair,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      description: { type: 'string', col: 'description' },
      observationType: { type: 'string', col: 'observation_type' },
      unitOfMeasurement: { type: 'json', col: 'unit' },
      observedArea: { type: 'geo', start: 'lon', end: 'lat' },
      phenomenonTime: { type: 'interval', start: 'pt_start', end: 'pt_end' },
      resultTime: { type: 'interval', start: 'pt_start', end: 'pt_end' },
      properties: { type: 'json', col: 'properties' },
    },
    nav: {
      Thing: { target: 'Things', many: false, local: ['thing_id'], remote: ['id'] },
      Sensor: { target: 'Sensors', many: false, local: ['sensor_id'], remote: ['id'] },
      ObservedProperty: { target: 'ObservedProperties', many: false, local: ['op_id'], remote: ['id'] },
      Observations: { target: 'Observations', many: true, local: ['thing_id', 'op_id'], remote: ['device_id', 'metric'] },
    },
    order: ['thing_id', 'op_id'],
  },
  Sensors: {
    set: 'Sensors',
    type: 'Sensor',
    relation: (q) =>
      `select x.model as id, coalesce(s.name, x.model) as name, coalesce(s.description, x.model) as description,
         'text/html' as encoding_type, coalesce(s.metadata, '') as metadata, jsonb_build_object('model', x.model) as properties
       from (select distinct d.model from (${PUBLIC_DEVICES}) d) x left join ${sensorsTable(q)} on s.id = x.model`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      description: { type: 'string', col: 'description' },
      encodingType: { type: 'string', col: 'encoding_type' },
      metadata: { type: 'string', col: 'metadata' },
      properties: { type: 'json', col: 'properties' },
    },
    nav: { Datastreams: { target: 'Datastreams', many: true, local: ['id'], remote: ['sensor_id'] } },
    order: ['id'],
  },
  ObservedProperties: {
    set: 'ObservedProperties',
    type: 'ObservedProperty',
    relation: (q) =>
      `select m.metric as id, m.name, m.definition, m.description, jsonb_build_object('metric', m.metric) as properties
       from ${metricsTable(q)}
       where exists (select 1 from (${PUBLIC_DEVICES}) d where ${hasReadings('d.id', 'm.metric')})`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      definition: { type: 'string', col: 'definition' },
      description: { type: 'string', col: 'description' },
      properties: { type: 'json', col: 'properties' },
    },
    nav: { Datastreams: { target: 'Datastreams', many: true, local: ['id'], remote: ['op_id'] } },
    order: ['id'],
  },
  Observations: {
    set: 'Observations',
    type: 'Observation',
    relation: (q) =>
      `select r.device_id, r.metric, r.time, r.value, r.quality
       from readings r join (${PUBLIC_DEVICES}) d on d.id = r.device_id
       where ${EVALUATED} and r.metric = any(${publishedMetrics(q)})`,
    key: ['device_id', 'metric', 'time'],
    parseId: (id) => {
      const parts = id.split('~');
      if (parts.length !== 3) return undefined;
      const t = new Date(parts[2]);
      return Number.isNaN(t.getTime()) ? undefined : [parts[0], parts[1], t];
    },
    props: {
      '@iot.id': { type: 'string', sql: (a) => `(${a}.device_id || '~' || ${a}.metric || '~' || ${ISO(`${a}.time`)})` },
      phenomenonTime: { type: 'time', col: 'time' },
      resultTime: { type: 'time', col: 'time' },
      result: { type: 'number', col: 'value' },
    },
    nav: {
      Datastream: { target: 'Datastreams', many: false, local: ['device_id', 'metric'], remote: ['thing_id', 'op_id'] },
      FeatureOfInterest: { target: 'FeaturesOfInterest', many: false, local: ['device_id'], remote: ['id'] },
    },
    order: ['time', 'device_id', 'metric'],
    notNull: ['value'],
  },
  FeaturesOfInterest: {
    set: 'FeaturesOfInterest',
    type: 'FeatureOfInterest',
    relation: () =>
      `select d.id, d.name, 'Messstelle ' || d.name || ' (Punkt)' as description, 'application/geo+json' as encoding_type,
         ${LON} as lon, ${LAT} as lat
       from (${PUBLIC_DEVICES}) d`,
    key: ['id'],
    parseId: single,
    props: {
      '@iot.id': { type: 'string', col: 'id' },
      name: { type: 'string', col: 'name' },
      description: { type: 'string', col: 'description' },
      encodingType: { type: 'string', col: 'encoding_type' },
      feature: { type: 'geo', start: 'lon', end: 'lat' },
    },
    nav: { Observations: { target: 'Observations', many: true, local: ['id'], remote: ['device_id'] } },
    order: ['id'],
  },
};

export const isEntitySet = (s: string): s is EntitySet => (ENTITY_SETS as readonly string[]).includes(s);
