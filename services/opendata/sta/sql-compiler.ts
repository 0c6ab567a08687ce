// Compiles a `$filter`/`$orderby` syntax tree to SQL over the entity relations of entity-store.ts. Literals
// become bind parameters (SqlParams.p); identifiers are looked up in the entity definitions, so nothing from
// the request is ever spliced into the SQL text. Unknown properties and type mismatches are StaQueryErrors
// (400), with the spec's names. [OGC 18-088 §9.3.3.5]
import { ENTITIES, type EntityDef, type SqlParams } from './entity-store.ts';
import { type BinaryOp, type Expr, type Geometry, StaQueryError } from './filter-parser.ts';

type Scalar = 'string' | 'number' | 'bool' | 'time' | 'json' | 'null' | 'geo' | 'duration';
export type Compiled =
  | { t: Scalar; sql: string }
  | { t: 'interval'; start: string; end: string }
  /** a value reached through a to-many navigation: true when any related row matches [FROST: any semantics] */
  | { t: 'many'; wrap: (cond: string) => string; inner: Compiled };

/** Where an entity's columns are: a table alias, plus columns already known from a navigation join. */
export interface Scope {
  def: EntityDef;
  alias: string | null;
  known: Record<string, string>;
}

export class Compiler {
  private aliases = 0;
  /** lambda variables in scope (`d` in `Datastreams/any(d: d/name eq 'x')`) */
  private vars = new Map<string, Scope>();
  /** the entity the filter is about (`$it`) */
  private root?: Scope;
  constructor(
    readonly q: SqlParams,
    private aliasPrefix = 'f',
  ) {}

  private alias(): string {
    return `${this.aliasPrefix}${++this.aliases}`;
  }

  col(scope: Scope, col: string): string {
    const k = scope.known[col];
    if (k) return k;
    if (!scope.alias) throw new Error(`column ${col} of ${scope.def.set} is not reachable`);
    return `${scope.alias}.${col}`;
  }

  /** A boolean SQL condition for `$filter`. */
  filter(e: Expr, scope: Scope): string {
    const prev = this.root;
    this.root = scope;
    try {
      return this.asBool(this.expr(e, scope));
    } finally {
      this.root = prev;
    }
  }

  /** An SQL expression to order by. */
  orderExpr(e: Expr, scope: Scope): string {
    const c = this.expr(e, scope);
    if (c.t === 'many') throw new StaQueryError('$orderby cannot use a path through a collection (e.g. Datastreams/name); use a single-valued path');
    if (c.t === 'interval') return c.start;
    if (c.t === 'geo') throw new StaQueryError('$orderby on a geometry is not supported; order by geo.distance(…) instead');
    return c.sql;
  }

  private asBool(c: Compiled): string {
    if (c.t === 'many') return c.wrap(this.asBool(c.inner));
    if (c.t === 'bool') return c.sql;
    if (c.t === 'json') return `(${c.sql})::text = 'true'`;
    throw new StaQueryError(`the filter must be a condition (true/false), but this part is a ${c.t}`);
  }

  expr(e: Expr, scope: Scope): Compiled {
    switch (e.k) {
      case 'lit':
        return this.literal(e);
      case 'path':
        return this.path(e.segs, scope);
      case 'not':
        return this.lift([this.expr(e.e, scope)], ([a]) => ({ t: 'bool', sql: `(not coalesce(${this.asBool(a)}, false))` }));
      case 'neg':
        return this.lift([this.expr(e.e, scope)], ([a]) => ({ t: 'number', sql: `(-${this.num(a, '-')})` }));
      case 'bin':
        return this.binary(e.op, this.expr(e.l, scope), this.expr(e.r, scope));
      case 'fn':
        return this.fn(
          e.name,
          e.args.map((a) => this.expr(a, scope)),
        );
      case 'lambda':
        return this.lambda(e, scope);
    }
  }

  /**
   * `path/any(v: cond)`: some member of the collection at `path` satisfies `cond`; `path/all(v: cond)`: none
   * fails it (true for an empty collection); `path/any()`: the collection is not empty. Steps before the last
   * must be single-valued (Observations/Datastream/Thing/Datastreams/any(…)). In `cond`, paths starting with `v`
   * are the member's, `$it/…` and paths without a variable are the filtered entity's. [OData 4.01 §5.1.1.13]
   */
  private lambda(e: Extract<Expr, { k: 'lambda' }>, scope: Scope): Compiled {
    // the collection may hang off a lambda variable or $it: d/Observations/any(…)
    const bound = e.path[0] === '$it' ? this.root : this.vars.get(e.path[0]);
    let cur = bound ?? scope;
    const path = bound ? e.path.slice(1) : e.path;
    if (path.length === 0) throw new StaQueryError(`${e.op}() needs a collection before it, e.g. ${e.path[0]}/Datastreams/${e.op}(…)`);
    const steps: Array<{ rel: string; alias: string; on: string }> = [];
    path.forEach((seg, i) => {
      const nav = cur.def.nav[seg];
      const last = i === path.length - 1;
      if (!nav)
        throw new StaQueryError(
          `${e.op}(): '${path.slice(0, i + 1).join('/')}' is not a navigation property of ${cur.def.type} (it has ${Object.keys(cur.def.nav).join(', ')})`,
        );
      if (last && !nav.many) throw new StaQueryError(`${e.op}() needs a collection, but '${seg}' of ${cur.def.type} is a single entity`);
      if (!last && nav.many) throw new StaQueryError(`${e.op}(): only the last step before it may be a collection ('${seg}' is one)`);
      const a = this.alias();
      const target = ENTITIES[nav.target];
      const on = nav.remote.map((r, j) => `${a}.${r} = ${this.col(cur, nav.local[j])}`).join(' and ');
      steps.push({ rel: target.relation(this.q), alias: a, on });
      cur = { def: target, alias: a, known: {} };
    });
    let body = 'true';
    if (e.body && e.v) {
      // an inner lambda may reuse a name: it stands for the inner member until its ')'
      const outer = this.vars.get(e.v);
      this.vars.set(e.v, cur);
      try {
        body = this.asBool(this.expr(e.body, scope));
      } finally {
        if (outer) this.vars.set(e.v, outer);
        else this.vars.delete(e.v);
      }
    }
    const innermost = steps[steps.length - 1];
    let sql =
      e.op === 'any'
        ? `exists (select 1 from (${innermost.rel}) ${innermost.alias} where ${innermost.on} and ${body})`
        : `not exists (select 1 from (${innermost.rel}) ${innermost.alias} where ${innermost.on} and not coalesce(${body}, false))`;
    for (let i = steps.length - 2; i >= 0; i--) sql = `exists (select 1 from (${steps[i].rel}) ${steps[i].alias} where ${steps[i].on} and ${sql})`;
    return { t: 'bool', sql: `(${sql})` };
  }

  private literal(e: Extract<Expr, { k: 'lit' }>): Compiled {
    switch (e.type) {
      case 'string':
        return { t: 'string', sql: `${this.q.p(e.value)}::text` };
      case 'number':
        return { t: 'number', sql: `${this.q.p(e.value)}::float8` };
      case 'bool':
        return { t: 'bool', sql: `${this.q.p(e.value)}::boolean` };
      case 'null':
        return { t: 'null', sql: 'null' };
      case 'time':
        return { t: 'time', sql: `${this.q.p(e.value.toISOString())}::timestamptz` };
      case 'interval':
        return { t: 'interval', start: `${this.q.p(e.value.start.toISOString())}::timestamptz`, end: `${this.q.p(e.value.end.toISOString())}::timestamptz` };
      case 'duration':
        return { t: 'duration', sql: `${this.q.p(e.value)}::interval` };
      case 'geo':
        return { t: 'geo', sql: this.geoLiteral(e.value) };
    }
  }

  private geoLiteral(g: Geometry): string {
    if (g.type === 'Point') return `${this.q.p(`(${g.coordinates[0]},${g.coordinates[1]})`)}::point`;
    // an open path: PostgreSQL's built-in type for a line string
    if (g.type === 'LineString') return `${this.q.p(`[${g.coordinates.map(([x, y]) => `(${x},${y})`).join(',')}]`)}::path`;
    return `${this.q.p(`(${g.coordinates[0].map(([x, y]) => `(${x},${y})`).join(',')})`)}::polygon`;
  }

  /** A property path: navigation properties, then a property, then (in JSON properties) keys. */
  path(segs: string[], scope: Scope): Compiled {
    const [head, ...rest] = segs;
    const bound = head === '$it' ? this.root : this.vars.get(head);
    if (bound) {
      if (rest.length === 0) throw new StaQueryError(`'${head}' is an entity, not a value; name one of its properties, e.g. ${head}/@iot.id`);
      return this.path(rest, bound);
    }
    const def = scope.def;
    const id = head === 'id' ? '@iot.id' : head;
    const nav = def.nav[head];
    if (nav) {
      if (rest.length === 0) throw new StaQueryError(`'${head}' is an entity, not a value; name one of its properties, e.g. ${head}/@iot.id`);
      const target = ENTITIES[nav.target];
      if (!nav.many && nav.local.every((c) => scope.known[c] || scope.alias)) {
        // a to-one step: the target's key columns are known from ours, the target itself is joined only if needed
        const known: Record<string, string> = {};
        nav.remote.forEach((r, i) => {
          known[r] = this.col(scope, nav.local[i]);
        });
        const nextScope: Scope = { def: target, alias: null, known };
        if (this.reachable(rest, nextScope)) return this.path(rest, nextScope);
        return this.joined(target, nav.remote, (r) => known[r], rest);
      }
      const a = this.alias();
      const inner = this.path(rest, { def: target, alias: a, known: {} });
      const on = nav.remote.map((r, i) => `${a}.${r} = ${this.col(scope, nav.local[i])}`).join(' and ');
      const rel = target.relation(this.q);
      return { t: 'many', wrap: (cond) => `exists (select 1 from (${rel}) ${a} where ${on} and ${cond})`, inner };
    }
    const prop = def.props[id];
    if (!prop) {
      const names = [...Object.keys(def.props), ...Object.keys(def.nav)].join(', ');
      throw new StaQueryError(`${def.type} has no property '${head}' (it has ${names})`);
    }
    if (prop.type === 'json') {
      const base = this.col(scope, prop.col as string);
      if (rest.length === 0) return { t: 'json', sql: base };
      if (rest.some((s) => !/^[A-Za-z0-9_@.$-]+$/.test(s))) throw new StaQueryError(`invalid key in '${segs.join('/')}'`);
      return { t: 'json', sql: `(${base} #> ${this.q.p(rest)}::text[])` };
    }
    if (rest.length) throw new StaQueryError(`'${head}' of ${def.type} has no sub-properties (in '${segs.join('/')}')`);
    if (prop.sql) {
      if (!scope.alias) throw new Error(`${def.set}.${head} needs its row`);
      return { t: prop.type as Scalar, sql: prop.sql(scope.alias) };
    }
    if (prop.type === 'interval') return { t: 'interval', start: this.col(scope, prop.start as string), end: this.col(scope, prop.end as string) };
    if (prop.type === 'geo') return { t: 'geo', sql: `point(${this.col(scope, prop.start as string)}, ${this.col(scope, prop.end as string)})` };
    return { t: prop.type, sql: this.col(scope, prop.col as string) };
  }

  /** Is the path answerable from known columns alone (no join of the entity itself)? */
  private reachable(segs: string[], scope: Scope): boolean {
    if (scope.alias) return true;
    const [head, ...rest] = segs;
    const nav = scope.def.nav[head];
    if (nav) {
      if (nav.many || !nav.local.every((c) => scope.known[c])) return false;
      const known: Record<string, string> = {};
      nav.remote.forEach((r, i) => {
        known[r] = scope.known[nav.local[i]];
      });
      return this.reachable(rest, { def: ENTITIES[nav.target], alias: null, known });
    }
    const prop = scope.def.props[head === 'id' ? '@iot.id' : head];
    if (!prop) return true; // let path() report the unknown name
    if (prop.sql) return false;
    const cols = prop.col ? [prop.col] : [prop.start as string, prop.end as string];
    return cols.every((c) => scope.known[c]);
  }

  /** The rest of a path evaluated on the one related row of `def`, as a scalar subquery. */
  private joined(def: EntityDef, keys: string[], known: (k: string) => string, rest: string[]): Compiled {
    const a = this.alias();
    const where = keys.map((k) => `${a}.${k} = ${known(k)}`).join(' and ');
    const inner = this.path(rest, { def, alias: a, known: {} });
    const sub = (x: string) => `(select ${x} from (${def.relation(this.q)}) ${a} where ${where} limit 1)`;
    if (inner.t === 'interval') return { t: 'interval', start: sub(inner.start), end: sub(inner.end) };
    if (inner.t === 'many') {
      const rel = def.relation(this.q);
      return { t: 'many', wrap: (cond) => `exists (select 1 from (${rel}) ${a} where ${where} and ${inner.wrap(cond)})`, inner: inner.inner };
    }
    return { t: inner.t, sql: sub(inner.sql) };
  }

  /** Applies `build` with to-many values replaced by their inner value, then wraps it as "any related row". */
  private lift(args: Compiled[], build: (a: Compiled[]) => Compiled): Compiled {
    const i = args.findIndex((a) => a.t === 'many');
    if (i < 0) return build(args);
    const m = args[i] as Extract<Compiled, { t: 'many' }>;
    const replaced = [...args];
    replaced[i] = m.inner;
    const inner = this.lift(replaced, build);
    // a condition ends the lifting; a value (date(Datastreams/Observations/resultTime)) stays "any related row" until compared
    if (inner.t === 'bool') return { t: 'bool', sql: m.wrap(inner.sql) };
    return { t: 'many', wrap: m.wrap, inner };
  }

  private num(c: Compiled, op: string): string {
    if (c.t === 'number') return c.sql;
    if (c.t === 'json') return `(case when jsonb_typeof(${c.sql}) = 'number' then (${c.sql})::text::float8 end)`;
    if (c.t === 'null') return 'null::float8';
    throw new StaQueryError(`'${op}' needs numbers, not a ${c.t}`);
  }

  private text(c: Compiled, fn: string): string {
    if (c.t === 'string') return c.sql;
    if (c.t === 'json') return `(${c.sql} #>> '{}')`;
    if (c.t === 'null') return 'null::text';
    throw new StaQueryError(`${fn}() needs text, not a ${c.t}`);
  }

  private time(c: Compiled, fn: string): { start: string; end: string } {
    if (c.t === 'time') return { start: c.sql, end: c.sql };
    if (c.t === 'interval') return { start: c.start, end: c.end };
    if (c.t === 'null') return { start: 'null::timestamptz', end: 'null::timestamptz' };
    if (c.t === 'string') {
      throw new StaQueryError(`${fn} needs a time; write times without quotes, e.g. 2026-05-01T00:00:00Z`);
    }
    throw new StaQueryError(`${fn} needs a time, not a ${c.t}`);
  }

  private binary(op: BinaryOp, l: Compiled, r: Compiled): Compiled {
    return this.lift([l, r], ([a, b]) => {
      switch (op) {
        case 'and':
        case 'or':
          return { t: 'bool', sql: `(${this.asBool(a)} ${op} ${this.asBool(b)})` };
        case 'add':
        case 'sub':
          if ((a.t === 'time' || a.t === 'interval') && b.t === 'duration') {
            const t = this.time(a, op);
            return { t: 'time', sql: `(${t.start} ${op === 'add' ? '+' : '-'} ${b.sql})` };
          }
          return { t: 'number', sql: `(${this.num(a, op)} ${op === 'add' ? '+' : '-'} ${this.num(b, op)})` };
        case 'mul':
          return { t: 'number', sql: `(${this.num(a, op)} * ${this.num(b, op)})` };
        case 'div':
          return { t: 'number', sql: `(${this.num(a, op)} / nullif(${this.num(b, op)}, 0))` };
        case 'mod':
          return { t: 'number', sql: `(mod(${this.num(a, op)}::numeric, nullif(${this.num(b, op)}, 0)::numeric))::float8` };
        default:
          return this.compare(op, a, b);
      }
    });
  }

  private compare(op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | BinaryOp, a: Compiled, b: Compiled): Compiled {
    const sqlOp = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op as 'eq'];
    if (a.t === 'null' || b.t === 'null') {
      if (op !== 'eq' && op !== 'ne') throw new StaQueryError(`only eq and ne compare with null, not ${op}`);
      const other = a.t === 'null' ? b : a;
      const v = other.t === 'interval' ? other.start : other.t === 'many' ? 'null' : (other as { sql: string }).sql;
      return { t: 'bool', sql: `(${v} is ${op === 'eq' ? '' : 'not '}null)` };
    }
    const timeLike = (c: Compiled) => c.t === 'time' || c.t === 'interval';
    if (timeLike(a) || timeLike(b)) {
      const x = this.time(a, op);
      const y = this.time(b, op);
      // intervals compare as in FROST: gt = starts after, lt = ends before, eq = same start and end
      switch (op) {
        case 'eq':
          return { t: 'bool', sql: `(${x.start} = ${y.start} and ${x.end} = ${y.end})` };
        case 'ne':
          return { t: 'bool', sql: `(${x.start} <> ${y.start} or ${x.end} <> ${y.end})` };
        case 'gt':
          return { t: 'bool', sql: `(${x.start} > ${y.end})` };
        case 'ge':
          return { t: 'bool', sql: `(${x.start} >= ${y.end})` };
        case 'lt':
          return { t: 'bool', sql: `(${x.end} < ${y.start})` };
        default:
          return { t: 'bool', sql: `(${x.end} <= ${y.start})` };
      }
    }
    if (a.t === 'number' || b.t === 'number') return { t: 'bool', sql: `(${this.num(a, op)} ${sqlOp} ${this.num(b, op)})` };
    if (a.t === 'bool' || b.t === 'bool') {
      const bool = (c: Compiled) => (c.t === 'bool' ? c.sql : c.t === 'json' ? `((${c.sql})::text = 'true')` : this.fail(op, a, b));
      return { t: 'bool', sql: `(${bool(a)} ${sqlOp} ${bool(b)})` };
    }
    if (a.t === 'geo' || b.t === 'geo' || a.t === 'duration' || b.t === 'duration') return this.fail(op, a, b);
    return { t: 'bool', sql: `(${this.text(a, op)} ${sqlOp} ${this.text(b, op)})` };
  }

  private fail(op: string, a: Compiled, b: Compiled): never {
    throw new StaQueryError(`cannot compare a ${a.t} with a ${b.t} using ${op}`);
  }

  private arity(name: string, args: Compiled[], n: number, m = n) {
    if (args.length < n || args.length > m) throw new StaQueryError(`${name}() takes ${n === m ? n : `${n} to ${m}`} argument(s), got ${args.length}`);
  }

  private fn(name: string, args: Compiled[]): Compiled {
    const spec = FUNCTIONS[name];
    if (!spec) throw new StaQueryError(`unknown function '${name}' (see the SensorThings $filter functions)`);
    this.arity(name, args, spec.min, spec.max ?? spec.min);
    return this.lift(args, (a) => spec.build(this, a, name));
  }

  // helpers the function table uses
  t(c: Compiled, fn: string) {
    return this.text(c, fn);
  }
  n(c: Compiled, fn: string) {
    return this.num(c, fn);
  }
  tm(c: Compiled, fn: string) {
    return this.time(c, fn);
  }
  geo(c: Compiled, fn: string): { sql: string; kind: GeoKind } {
    if (c.t !== 'geo') throw new StaQueryError(`${fn}() needs a geometry (a location, or geography'POINT(…)'/'LINESTRING(…)'/'POLYGON((…))'), not a ${c.t}`);
    return { sql: c.sql, kind: c.sql.endsWith('::polygon') ? 'polygon' : c.sql.endsWith('::path') ? 'line' : 'point' };
  }
}

type GeoKind = 'point' | 'line' | 'polygon';
type FnSpec = { min: number; max?: number; build: (c: Compiler, a: Compiled[], name: string) => Compiled };

const utc = (x: string) => `(${x} at time zone 'UTC')`;
const part = (field: string): FnSpec => ({
  min: 1,
  build: (c, [a], n) => ({ t: 'number', sql: `extract(${field} from ${utc(c.tm(a, n).start)})::float8` }),
});

// Geospatial functions with PostgreSQL's built-in geometric types (no PostGIS needed): stations are points;
// literals are points, line strings (open paths) and polygons. Coordinates are lon/lat degrees taken as plane
// coordinates, as FROST does for geometries. Each function names the pairs it answers; others are a 400.
type G = { sql: string; kind: GeoKind };
const pairOf = (x: G, y: G) => `${x.kind}/${y.kind}`;
const unsupported = (name: string, x: G, y: G): never => {
  throw new StaQueryError(`${name}(): a ${x.kind} with a ${y.kind} is not supported (points with points, lines and polygons are)`);
};
/** never true, but each geometry stays in the SQL (an unused bind parameter has no type PostgreSQL can tell) */
const never = (x: G, y: G) => `(false and ${x.sql} is not null and ${y.sql} is not null)`;
/** the polygon's outline as a closed path, for "on the boundary" */
const outline = (poly: string) => `path(${poly})`;
/** the SQL geometry pair, ordered so that the first is the point when there is one */
const geoArgs = (c: Compiler, a: Compiled, b: Compiled, n: string): [G, G] => [c.geo(a, n), c.geo(b, n)];

function intersectsSql(name: string, x: G, y: G): string {
  switch (pairOf(x, y)) {
    case 'point/point':
      return `(${x.sql} ~= ${y.sql})`;
    case 'point/polygon':
    case 'point/line':
      return `(${x.sql} <@ ${y.sql})`;
    case 'polygon/point':
    case 'line/point':
      return `(${y.sql} <@ ${x.sql})`;
    case 'polygon/polygon':
      return `(${x.sql} && ${y.sql})`;
    case 'line/line':
      return `(${x.sql} ?# ${y.sql})`;
    default:
      return unsupported(name, x, y);
  }
}

function withinSql(name: string, x: G, y: G): string {
  switch (pairOf(x, y)) {
    case 'point/point':
      return `(${x.sql} ~= ${y.sql})`;
    case 'point/polygon':
    case 'point/line':
    case 'polygon/polygon':
      return `(${x.sql} <@ ${y.sql})`;
    case 'polygon/point':
    case 'line/point':
      return never(x, y);
    default:
      return unsupported(name, x, y);
  }
}

function touchesSql(name: string, x: G, y: G): string {
  switch (pairOf(x, y)) {
    case 'point/point':
      return never(x, y); // a point has no boundary: two points never touch
    case 'point/polygon':
      return `((${x.sql} <-> ${outline(y.sql)}) = 0)`;
    case 'polygon/point':
      return `((${y.sql} <-> ${outline(x.sql)}) = 0)`;
    default:
      return unsupported(name, x, y);
  }
}

/**
 * DE-9IM matrix (interior, boundary, exterior of a × of b) for a point with a point or a polygon; the pattern
 * (9 of T F * 0 1 2) is a bind parameter, checked and turned into a regular expression in SQL.
 */
function relateSql(c: Compiler, name: string, x: G, y: G, pattern: Compiled): string {
  const transpose = (m: string) => [0, 3, 6, 1, 4, 7, 2, 5, 8].map((i) => m[i]).join('');
  let matrix: string;
  switch (pairOf(x, y)) {
    case 'point/point':
      matrix = `case when ${x.sql} ~= ${y.sql} then '0FFFFFFF2' else 'FF0FFF0F2' end`;
      break;
    case 'point/polygon':
    case 'polygon/point': {
      const [p, poly] = x.kind === 'point' ? [x, y] : [y, x];
      const m = ['F0FFFF212', '0FFFFF212', 'FF0FFF212'].map((v) => (x.kind === 'point' ? v : transpose(v)));
      matrix = `case when (${p.sql} <-> ${outline(poly.sql)}) = 0 then '${m[0]}' when ${p.sql} <@ ${poly.sql} then '${m[1]}' else '${m[2]}' end`;
      break;
    }
    default:
      return unsupported(name, x, y);
  }
  const pat = `upper(${c.t(pattern, name)})`;
  return `(${pat} ~ '^[TF*012]{9}$' and (${matrix}) ~ ('^' || replace(replace(${pat}, '*', '.'), 'T', '[012]') || '$'))`;
}

const geoFn = (sql: (name: string, x: G, y: G) => string): FnSpec => ({
  min: 2,
  build: (c, [a, b], n) => ({ t: 'bool', sql: sql(n, ...geoArgs(c, a, b, n)) }),
});
const intersects = geoFn(intersectsSql);
const temporal = (cond: (x: { start: string; end: string }, y: { start: string; end: string }) => string): FnSpec => ({
  min: 2,
  build: (c, [a, b], n) => ({ t: 'bool', sql: `(${cond(c.tm(a, n), c.tm(b, n))})` }),
});

// The built-in functions of OGC 18-088 Table 25 (string, date, math, geospatial) and FROST's temporal ones.
const FUNCTIONS: Record<string, FnSpec> = {
  substringof: { min: 2, build: (c, [a, b], n) => ({ t: 'bool', sql: `(strpos(${c.t(b, n)}, ${c.t(a, n)}) > 0)` }) },
  contains: { min: 2, build: (c, [a, b], n) => ({ t: 'bool', sql: `(strpos(${c.t(a, n)}, ${c.t(b, n)}) > 0)` }) },
  endswith: { min: 2, build: (c, [a, b], n) => ({ t: 'bool', sql: `(right(${c.t(a, n)}, char_length(${c.t(b, n)})) = ${c.t(b, n)})` }) },
  startswith: { min: 2, build: (c, [a, b], n) => ({ t: 'bool', sql: `(left(${c.t(a, n)}, char_length(${c.t(b, n)})) = ${c.t(b, n)})` }) },
  length: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `char_length(${c.t(a, n)})::float8` }) },
  indexof: { min: 2, build: (c, [a, b], n) => ({ t: 'number', sql: `(strpos(${c.t(a, n)}, ${c.t(b, n)}) - 1)::float8` }) },
  substring: {
    min: 2,
    max: 3,
    build: (c, [a, b, len], n) => ({
      t: 'string',
      sql: len ? `substr(${c.t(a, n)}, (${c.n(b, n)})::int + 1, greatest((${c.n(len, n)})::int, 0))` : `substr(${c.t(a, n)}, (${c.n(b, n)})::int + 1)`,
    }),
  },
  tolower: { min: 1, build: (c, [a], n) => ({ t: 'string', sql: `lower(${c.t(a, n)})` }) },
  toupper: { min: 1, build: (c, [a], n) => ({ t: 'string', sql: `upper(${c.t(a, n)})` }) },
  trim: { min: 1, build: (c, [a], n) => ({ t: 'string', sql: `btrim(${c.t(a, n)})` }) },
  concat: { min: 2, build: (c, [a, b], n) => ({ t: 'string', sql: `(${c.t(a, n)} || ${c.t(b, n)})` }) },
  year: part('year'),
  month: part('month'),
  day: part('day'),
  hour: part('hour'),
  minute: part('minute'),
  second: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `floor(extract(second from ${utc(c.tm(a, n).start)}))::float8` }) },
  fractionalseconds: {
    min: 1,
    build: (c, [a], n) => ({
      t: 'number',
      sql: `(extract(second from ${utc(c.tm(a, n).start)}) - floor(extract(second from ${utc(c.tm(a, n).start)})))::float8`,
    }),
  },
  date: { min: 1, build: (c, [a], n) => ({ t: 'string', sql: `to_char(${utc(c.tm(a, n).start)}, 'YYYY-MM-DD')` }) },
  time: { min: 1, build: (c, [a], n) => ({ t: 'string', sql: `to_char(${utc(c.tm(a, n).start)}, 'HH24:MI:SS.MS')` }) },
  // times are stored and served in UTC: the offset is 0 (the argument is still checked to be a time)
  totaloffsetminutes: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `(0 * extract(epoch from ${c.tm(a, n).start}))::float8` }) },
  now: { min: 0, build: () => ({ t: 'time', sql: 'now()' }) },
  mindatetime: { min: 1, build: (c, [a], n) => ({ t: 'time', sql: c.tm(a, n).start }) },
  maxdatetime: { min: 1, build: (c, [a], n) => ({ t: 'time', sql: c.tm(a, n).end }) },
  round: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `round(${c.n(a, n)})` }) },
  floor: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `floor(${c.n(a, n)})` }) },
  ceiling: { min: 1, build: (c, [a], n) => ({ t: 'number', sql: `ceiling(${c.n(a, n)})` }) },
  'geo.intersects': intersects,
  st_intersects: intersects,
  st_within: geoFn(withinSql),
  st_contains: geoFn((n, x, y) => withinSql(n, y, x)),
  st_equals: geoFn((n, x, y) => (x.kind === y.kind && x.kind !== 'line' ? `(${x.sql} ~= ${y.sql})` : x.kind === y.kind ? unsupported(n, x, y) : never(x, y))),
  st_disjoint: geoFn((n, x, y) => `(not ${intersectsSql(n, x, y)})`),
  st_touches: geoFn(touchesSql),
  // a point's interior is the point itself: it cannot overlap or cross anything (same or lower dimension)
  st_overlaps: geoFn((n, x, y) =>
    pairOf(x, y) === 'polygon/polygon'
      ? `(${x.sql} && ${y.sql} and not ${x.sql} <@ ${y.sql} and not ${y.sql} <@ ${x.sql})`
      : x.kind === 'point' || y.kind === 'point'
        ? never(x, y)
        : unsupported(n, x, y),
  ),
  st_crosses: geoFn((n, x, y) =>
    pairOf(x, y) === 'line/line' ? `(${x.sql} ?# ${y.sql})` : x.kind === 'point' || y.kind === 'point' ? never(x, y) : unsupported(n, x, y),
  ),
  st_relate: { min: 3, build: (c, [a, b, p], n) => ({ t: 'bool', sql: relateSql(c, n, c.geo(a, n), c.geo(b, n), p) }) },
  'geo.distance': {
    min: 2,
    build: (c, [a, b], n) => {
      const [x, y] = geoArgs(c, a, b, n);
      // in degrees, as FROST does for geometries; PostgreSQL measures a point to any shape, and polygons to each other
      if (x.kind === 'point' || y.kind === 'point' || pairOf(x, y) === 'polygon/polygon') return { t: 'number', sql: `(${x.sql} <-> ${y.sql})` };
      return unsupported(n, x, y);
    },
  },
  'geo.length': {
    min: 1,
    build: (c, [a], n) => {
      const x = c.geo(a, n);
      if (x.kind === 'line') return { t: 'number', sql: `length(${x.sql})` };
      if (x.kind === 'point') return { t: 'number', sql: `(0 * (${x.sql})[0])` };
      throw new StaQueryError('geo.length(): needs a line string (a polygon has no length; a point has 0)');
    },
  },
  before: temporal((x, y) => `${x.end} < ${y.start}`),
  after: temporal((x, y) => `${x.start} > ${y.end}`),
  meets: temporal((x, y) => `${x.end} = ${y.start} or ${y.end} = ${x.start}`),
  during: temporal((x, y) => `${x.start} >= ${y.start} and ${x.end} <= ${y.end}`),
  overlaps: temporal((x, y) => `${x.start} < ${y.end} and ${x.end} > ${y.start}`),
  starts: temporal((x, y) => `${x.start} = ${y.start}`),
  finishes: temporal((x, y) => `${x.end} = ${y.end}`),
};
