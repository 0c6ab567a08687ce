// The SQL statements of the SensorThings API: a page of one entity set, its count, and the related rows of
// many parents at once ($expand). Conditions come from sql-compiler.ts, values only as bind parameters.
import type { Queryable } from '../../db/db.ts';
import { type EntityDef, SqlParams } from './entity-store.ts';
import type { Expr } from './filter-parser.ts';
import type { OrderItem } from './query-options.ts';
import { Compiler, type Scope } from './sql-compiler.ts';

export type Row = Record<string, unknown>;

/** key columns = values (a navigation parent, or an entity id) */
export interface Constraint {
  cols: string[];
  values: unknown[];
}

export interface Page {
  def: EntityDef;
  where: Constraint[];
  filter?: Expr;
  orderby: OrderItem[];
  limit: number;
  offset: number;
  /** only the keys are needed (a step on a navigation path): skip the relation's costly computed columns */
  lite?: boolean;
  /** keyset: resume after the row with these values of `keys` (see keysetColumns) */
  after?: { keys: KeyCol[]; values: unknown[] };
}

/** A column a page is ordered by, for a keyset cursor. */
export interface KeyCol {
  col: string;
  desc: boolean;
  type: 'time' | 'number' | 'string';
}

/**
 * The columns a page is ordered by — `$orderby` items, then the entity's own order — when every one is a plain,
 * never-null column of the row. Then the next page can start after the last row's values (a keyset cursor in
 * `$skiptoken`), which costs one index descent however deep the page, instead of counting `$skip` rows.
 * Undefined for orders on expressions, JSON or nullable properties: those page with `$skip` as before.
 */
export function keysetColumns(def: EntityDef, orderby: OrderItem[]): KeyCol[] | undefined {
  const notNull = new Set([...def.key, ...def.order, ...(def.notNull ?? [])]);
  const typeOf = (col: string): KeyCol['type'] => {
    const p = Object.values(def.props).find((x) => x.col === col);
    return p?.type === 'time' || p?.type === 'number' ? p.type : 'string';
  };
  const out: KeyCol[] = [];
  const add = (col: string, desc: boolean) => {
    if (!out.some((k) => k.col === col)) out.push({ col, desc, type: typeOf(col) });
  };
  for (const o of orderby) {
    if (o.expr.k !== 'path' || o.expr.segs.length !== 1) return undefined;
    const prop = def.props[o.expr.segs[0] === 'id' ? '@iot.id' : o.expr.segs[0]];
    if (!prop?.col || prop.sql || !notNull.has(prop.col)) return undefined;
    add(prop.col, o.desc);
  }
  for (const col of def.order) add(col, false);
  return out;
}

/** The column a row carries with the exact text of key column `col` (time keys: see exactKeys). */
export const exactKeyCol = (col: string) => `_exact_${col}`;

/**
 * The time keys of the page's order as text to the microsecond (`2026-05-02T00:00:00.000100Z`): a timestamptz
 * has microseconds, a JavaScript Date only milliseconds, so a cursor taken from the Date would skip or repeat
 * readings that differ by less than a millisecond at a page's edge.
 */
function exactKeys(def: EntityDef, orderby: OrderItem[], alias: string): string {
  return (keysetColumns(def, orderby) ?? [])
    .filter((k) => k.type === 'time')
    .map((k) => `, to_char(${alias}.${k.col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${exactKeyCol(k.col)}`)
    .join('');
}

/** `(k1, k2, …) after (v1, v2, …)` in the page's order, with a plain bound on k1 so the index range starts there. */
function afterSql(c: Compiler, scope: Scope, after: NonNullable<Page['after']>): string {
  const cast = { time: 'timestamptz', number: 'float8', string: 'text' };
  const refs = after.keys.map((k, i) => ({ col: `${scope.alias}.${k.col}`, v: `${c.q.p(after.values[i])}::${cast[k.type]}`, desc: k.desc }));
  let cond = '';
  for (let i = refs.length - 1; i >= 0; i--) {
    const r = refs[i];
    const strict = `${r.col} ${r.desc ? '<' : '>'} ${r.v}`;
    cond = cond ? `(${strict} or (${r.col} = ${r.v} and ${cond}))` : `(${strict})`;
  }
  const first = refs[0];
  return `${first.col} ${first.desc ? '<=' : '>='} ${first.v} and ${cond}`;
}

function conditions(c: Compiler, scope: Scope, where: Constraint[], filter: Expr | undefined): string[] {
  const out: string[] = [];
  for (const w of where) w.cols.forEach((col, i) => out.push(`${scope.alias}.${col} = ${c.q.p(w.values[i])}`));
  if (filter) out.push(c.filter(filter, scope));
  return out;
}

function orderSql(c: Compiler, scope: Scope, orderby: OrderItem[]): string {
  // the entity's own order last, so pages never overlap or skip rows (FROST's alwaysOrderbyId)
  // PostgreSQL's default null order (last when ascending, first when descending) is what a backward index scan
  // gives: `$orderby=phenomenonTime desc&$top=1` reads one index entry instead of sorting the whole Datastream
  const items = orderby.map((o) => `${c.orderExpr(o.expr, scope)} ${o.desc ? 'desc' : 'asc'}`);
  for (const col of scope.def.order) items.push(`${scope.alias}.${col}`);
  return items.join(', ');
}

const whereSql = (conds: string[]) => (conds.length ? `where ${conds.join(' and ')}` : '');

export async function findRows(db: Queryable, page: Page, o: { window?: boolean } = {}): Promise<Row[]> {
  // `window: false`: without the time window (bench/opendata-plan-bounds.ts compares both)
  const window = o.window === false ? undefined : timeWindow(page);
  if (window) {
    // the page inside the window, if the window holds all of it; otherwise without the window
    const rows = await pageRows(db, page, window);
    if (rows.length >= page.limit) return rows;
  }
  return pageRows(db, page);
}

async function pageRows(db: Queryable, page: Page, window?: { bound: Date; desc: boolean }): Promise<Row[]> {
  const q = new SqlParams();
  const c = new Compiler(q);
  const scope: Scope = { def: page.def, alias: 'a0', known: {} };
  const conds = conditions(c, scope, page.where, page.filter);
  if (page.after) conds.push(afterSql(c, scope, page.after));
  if (window) conds.push(`${scope.alias}.time ${window.desc ? '>=' : '<'} ${q.p(window.bound)}::timestamptz`);
  const order = orderSql(c, scope, page.orderby);
  const sql = `select a0.*${exactKeys(page.def, page.orderby, 'a0')} from (${page.def.relation(q, { lite: page.lite })}) a0 ${whereSql(conds)} order by ${order} limit ${q.p(page.limit)} offset ${q.p(page.offset)}`;
  return (await db.query<Row>(sql, q.values)).rows;
}

/** How far from its start a page of Observations is first looked for: the newest (no cursor, newest first)
 *  within a day of now, a page after a cursor within 7 days of it (one chunk of readings). */
const NEWEST_WINDOW_MS = 86_400_000;
const AFTER_WINDOW_MS = 7 * 86_400_000;

/**
 * A constant time bound for a page of Observations ordered by time first, or undefined. With it TimescaleDB
 * plans only the chunks of readings the bound leaves (on the embedded store planning every chunk of a year
 * cost more than running the query: docs/benchmarks.md "Embedded open data: time bounds"). The answer is the
 * same whatever the bound: in the page's order every row inside the window (before `bound` when ascending, at
 * or after it when descending) comes before every row outside it, so when the window holds offset + limit
 * rows they are the page; when it holds fewer, findRows reads the page again without the window.
 */
function timeWindow(page: Page): { bound: Date; desc: boolean } | undefined {
  if (page.def.set !== 'Observations') return undefined;
  const first = keysetColumns(page.def, page.orderby)?.[0];
  if (first?.col !== 'time') return undefined;
  if (page.after) {
    if (page.after.keys[0]?.col !== 'time') return undefined;
    const at = new Date(page.after.values[0] as string).getTime();
    if (Number.isNaN(at)) return undefined;
    return { bound: new Date(first.desc ? at - AFTER_WINDOW_MS : at + AFTER_WINDOW_MS), desc: first.desc };
  }
  // the first page ascending has no start to look near (the oldest reading is not known in advance)
  if (!first.desc) return undefined;
  return { bound: new Date(Date.now() - NEWEST_WINDOW_MS), desc: true };
}

export async function countRows(db: Queryable, def: EntityDef, where: Constraint[], filter: Expr | undefined): Promise<number> {
  const q = new SqlParams();
  const c = new Compiler(q);
  const scope: Scope = { def, alias: 'a0', known: {} };
  const conds = conditions(c, scope, where, filter);
  const r = await db.query<{ n: string | number }>(`select count(*) as n from (${def.relation(q)}) a0 ${whereSql(conds)}`, q.values);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * The related rows of many parents in one statement: for each parent key tuple, its page of `def` rows
 * (a lateral subquery, so `$top` per parent uses the index). Rows carry `_parent`, the index into `keys`.
 */
export async function relatedRows(
  db: Queryable,
  def: EntityDef,
  remote: string[],
  keys: unknown[][],
  opts: { filter?: Expr; orderby: OrderItem[]; limit: number; offset: number; count: boolean },
): Promise<{ rows: Row[]; counts: Map<number, number> }> {
  const counts = new Map<number, number>();
  if (keys.length === 0) return { rows: [], counts };
  const base = (q: SqlParams) => {
    const c = new Compiler(q);
    const scope: Scope = { def, alias: 'a0', known: {} };
    const cols = remote.map((_, i) => `k${i}`);
    const arrays = remote.map((_, i) => `${q.p(keys.map((k) => String(k[i])))}::text[]`);
    const parents = `unnest(${arrays.join(', ')}) with ordinality as p(${cols.join(', ')}, i)`;
    const conds = [...remote.map((r, i) => `a0.${r} = p.k${i}`), ...conditions(c, scope, [], opts.filter)];
    return { c, scope, parents, conds, rel: def.relation(q) };
  };
  const q = new SqlParams();
  const { c, scope, parents, conds, rel } = base(q);
  const order = orderSql(c, scope, opts.orderby);
  const sql = `select x.*, p.i - 1 as _parent from ${parents}
    cross join lateral (select a0.*${exactKeys(def, opts.orderby, 'a0')} from (${rel}) a0 where ${conds.join(' and ')} order by ${order} limit ${q.p(opts.limit)} offset ${q.p(opts.offset)}) x
    order by p.i`;
  const rows = (await db.query<Row>(sql, q.values)).rows;
  if (opts.count) {
    const qc = new SqlParams();
    const b = base(qc);
    const r = await db.query<{ i: string | number; n: string | number }>(
      `select p.i - 1 as i, (select count(*) from (${b.rel}) a0 where ${b.conds.join(' and ')}) as n from ${b.parents}`,
      qc.values,
    );
    for (const x of r.rows) counts.set(Number(x.i), Number(x.n));
  }
  return { rows, counts };
}
