// SensorThings query options ($top, $skip, $count, $select, $orderby, $filter, $expand with nested options,
// $resultFormat) read from a query string into one object. [OGC 18-088 §9.3]
import { type Expr, parseExpression, StaQueryError } from './filter-parser.ts';

export const DEFAULT_TOP = 100;
export const MAX_TOP = 10_000;

export interface OrderItem {
  expr: Expr;
  desc: boolean;
}

export interface ExpandItem {
  /** navigation path, e.g. ['Datastreams'] or ['Datastreams', 'Observations'] */
  path: string[];
  options: QueryOptions;
}

export interface QueryOptions {
  top?: number;
  skip: number;
  count: boolean;
  select?: string[];
  orderby: OrderItem[];
  filter?: Expr;
  expand: ExpandItem[];
  resultFormat?: 'CSV' | 'GeoJSON';
  /** the cursor of a keyset @iot.nextLink (opaque to clients) */
  skiptoken?: string;
  /** the options as given, for @iot.nextLink */
  raw: Map<string, string>;
}

const KNOWN = new Set(['$top', '$skip', '$count', '$select', '$orderby', '$filter', '$expand', '$resultFormat', '$skiptoken']);

/** Splits at `sep` outside parentheses and quotes. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const c of s) {
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    if (depth < 0) throw new StaQueryError(`unbalanced ')' in '${s.slice(0, 80)}'`);
    if (!quoted && depth === 0 && c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (depth !== 0 || quoted) throw new StaQueryError(`unbalanced parentheses or quotes in '${s.slice(0, 80)}'`);
  out.push(cur);
  return out;
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim())) throw new StaQueryError(`${name} must be a whole number ≥ ${min}, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new StaQueryError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Options given as name → raw value (already percent-decoded). Unknown `$` options are an error. */
export function parseOptions(raw: Map<string, string>, nested = false): QueryOptions {
  const o: QueryOptions = { skip: 0, count: false, orderby: [], expand: [], raw };
  for (const [name, value] of raw) {
    if (!name.startsWith('$')) continue; // FROST ignores other parameters; so do we
    if (!KNOWN.has(name)) throw new StaQueryError(`unknown query option '${name}'`);
    switch (name) {
      case '$top':
        o.top = int('$top', value, 0, MAX_TOP);
        break;
      case '$skip':
        o.skip = int('$skip', value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case '$count':
        if (value !== 'true' && value !== 'false') throw new StaQueryError(`$count must be true or false, got '${value}'`);
        o.count = value === 'true';
        break;
      case '$select':
        o.select = value.split(',').map((s) => s.trim());
        if (o.select.some((s) => !/^(@iot\.id|@iot\.selfLink|[A-Za-z][A-Za-z0-9_]*)$/.test(s))) throw new StaQueryError(`invalid $select '${value}'`);
        break;
      case '$orderby':
        o.orderby = splitTop(value, ',').map(orderItem);
        break;
      case '$filter':
        o.filter = parseExpression(value);
        break;
      case '$expand':
        o.expand = splitTop(value, ',').map(expandItem);
        break;
      case '$resultFormat':
        if (nested) throw new StaQueryError('$resultFormat is allowed only on the request, not inside $expand');
        if (value !== 'CSV' && value !== 'GeoJSON') throw new StaQueryError(`$resultFormat must be CSV or GeoJSON, got '${value}'`);
        o.resultFormat = value;
        break;
      case '$skiptoken':
        if (nested) throw new StaQueryError('$skiptoken is allowed only on the request, not inside $expand');
        o.skiptoken = value;
        break;
    }
  }
  return o;
}

function orderItem(s: string): OrderItem {
  const m = /^(.*?)(\s+(asc|desc))?$/i.exec(s.trim());
  if (!m?.[1]) throw new StaQueryError(`invalid $orderby item '${s}'`);
  return { expr: parseExpression(m[1]), desc: (m[3] ?? '').toLowerCase() === 'desc' };
}

function expandItem(s: string): ExpandItem {
  const t = s.trim();
  const m = /^([A-Za-z]+(\/[A-Za-z]+)*)(\((.*)\))?$/s.exec(t);
  if (!m) throw new StaQueryError(`invalid $expand item '${t}'`);
  const raw = new Map<string, string>();
  if (m[4] !== undefined) {
    for (const part of splitTop(m[4], ';')) {
      const eq = part.indexOf('=');
      if (eq < 1) throw new StaQueryError(`invalid option '${part}' in $expand of ${m[1]}`);
      raw.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
  }
  return { path: m[1].split('/'), options: parseOptions(raw, true) };
}
