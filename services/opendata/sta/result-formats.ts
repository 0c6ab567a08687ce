// FROST-Server's `$resultFormat` extensions: CSV (RFC 4180; unitOfMeasurement split into three columns,
// other objects as JSON in one cell, expanded entities prefixed with their navigation name) and GeoJSON
// (a FeatureCollection; the geometry from the entity's location or an expanded one's).
// [FROST docs/extensions/CSV-ResultFormat.md, GeoJSON-ResultFormat.md]

type Json = Record<string, unknown>;

const isLink = (k: string) => k.endsWith('@iot.navigationLink') || k.endsWith('@iot.nextLink') || k.endsWith('@iot.count');
const GEOMETRY_FIELDS = ['location', 'feature', 'observedArea'];

/** One flat record: `Datastream/name`, `unitOfMeasurement/symbol`; an expanded collection contributes its first item. */
export function flatten(e: Json, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(e)) {
    if (isLink(k)) continue;
    const name = prefix + k;
    if (Array.isArray(v) && v.every((x) => x && typeof x === 'object' && '@iot.id' in x)) {
      if (v[0]) flatten(v[0] as Json, `${name}/`, out);
    } else if (v && typeof v === 'object' && '@iot.id' in v) flatten(v as Json, `${name}/`, out);
    else if (k === 'unitOfMeasurement' && v && typeof v === 'object') {
      for (const part of ['name', 'symbol', 'definition']) out[`${name}/${part}`] = (v as Json)[part];
    } else out[name] = v;
  }
  return out;
}

/** A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading ' so it
 *  stays text: station names come from the municipality, the file goes to anyone (OWASP CSV injection). */
export function csvCell(v: unknown, header = false): string {
  if (v == null) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (!header && typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: CRLF line ends, a header row, fields quoted when they contain a comma, quote or line break. */
export function toCsv(entities: Json[]): string {
  const rows = entities.map((e) => flatten(e));
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const lines = [cols.map((c) => csvCell(c, true)).join(',')]; // column names are ours (@iot.id, …)
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function geometryOf(e: Json): unknown {
  for (const f of GEOMETRY_FIELDS) if (e[f] && typeof e[f] === 'object') return e[f];
  for (const v of Object.values(e)) {
    const child = Array.isArray(v) ? v[0] : v;
    if (child && typeof child === 'object' && '@iot.id' in child) {
      const g = geometryOf(child as Json);
      if (g) return g;
    }
  }
  return null;
}

export function toGeoJson(entities: Json[]): unknown {
  return {
    type: 'FeatureCollection',
    features: entities.map((e) => {
      const properties = flatten(e);
      for (const f of GEOMETRY_FIELDS) delete properties[f];
      return { type: 'Feature', id: e['@iot.id'], geometry: geometryOf(e), properties };
    }),
  };
}
