// Rows of the entity relations as SensorThings JSON: the properties OGC 18-088 §8.2 requires for each entity
// type, `@iot.id`, `@iot.selfLink` and one `…@iot.navigationLink` per navigation property.
import { qualityFlags } from '../../../alerts/types.ts';
import { ENTITIES, type EntitySet } from './entity-store.ts';
import { idInUrl } from './resource-path.ts';
import type { Row } from './sta-queries.ts';

const iso = (v: unknown): string | null => (v == null ? null : new Date(v as string).toISOString());
const interval = (a: unknown, b: unknown): string | null => (a == null || b == null ? null : `${iso(a)}/${iso(b)}`);
const point = (lon: unknown, lat: unknown) => (lon == null || lat == null ? null : { type: 'Point', coordinates: [Number(lon), Number(lat)] });

/** The entity's own properties, in the order FROST serialises them. */
const PROPERTIES: Record<EntitySet, (r: Row) => Record<string, unknown>> = {
  Things: (r) => ({ name: r.name, description: r.description, properties: r.properties }),
  Locations: (r) => ({ name: r.name, description: r.description, encodingType: r.encoding_type, location: point(r.lon, r.lat) }),
  HistoricalLocations: (r) => ({ time: iso(r.time) }),
  Datastreams: (r) => ({
    name: r.name,
    description: r.description,
    observationType: r.observation_type,
    unitOfMeasurement: r.unit,
    observedArea: point(r.lon, r.lat),
    phenomenonTime: interval(r.pt_start, r.pt_end),
    resultTime: interval(r.pt_start, r.pt_end),
    properties: r.properties,
  }),
  Sensors: (r) => ({ name: r.name, description: r.description, encodingType: r.encoding_type, metadata: r.metadata, properties: r.properties }),
  ObservedProperties: (r) => ({ name: r.name, definition: r.definition, description: r.description, properties: r.properties }),
  Observations: (r) => ({
    phenomenonTime: iso(r.time),
    resultTime: iso(r.time),
    result: Number(r.value),
    // only quality-checked readings are published; a re-stamped clock is the one flag that can remain
    resultQuality: qualityFlags(Number(r.quality)).length ? qualityFlags(Number(r.quality)) : ['ok'],
  }),
  FeaturesOfInterest: (r) => ({ name: r.name, description: r.description, encodingType: r.encoding_type, feature: point(r.lon, r.lat) }),
};

/** Property names an entity type serialises (what `$select` accepts besides navigation properties). */
export const propertyNames = (set: EntitySet): string[] => Object.keys(PROPERTIES[set]({}));

/** An entity's @iot.id; an Observation's is made here rather than in SQL, so skipped rows cost no formatting. */
export function rowId(set: EntitySet, row: Row): string {
  if (set === 'Observations') return `${row.device_id}~${row.metric}~${iso(row.time)}`;
  return String(row.id);
}

export function selfLink(base: string, set: EntitySet, id: unknown): string {
  return `${base}/${set}${idInUrl(String(id))}`;
}

/** One entity as JSON; `select` limits the fields (navigation names in it add their links). */
export function entityJson(base: string, set: EntitySet, row: Row, select?: string[]): Record<string, unknown> {
  const id = rowId(set, row);
  const link = selfLink(base, set, id);
  const all: Record<string, unknown> = { '@iot.selfLink': link, '@iot.id': id, ...PROPERTIES[set](row) };
  for (const nav of Object.keys(ENTITIES[set].nav)) all[`${nav}@iot.navigationLink`] = `${link}/${nav}`;
  if (!select) return all;
  const out: Record<string, unknown> = {};
  for (const s of select) {
    const name = s === 'id' ? '@iot.id' : s;
    if (name in all) out[name] = all[name];
    else if (`${name}@iot.navigationLink` in all) out[`${name}@iot.navigationLink`] = all[`${name}@iot.navigationLink`];
  }
  return out;
}
