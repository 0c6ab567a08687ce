// The OData expression language of SensorThings `$filter` and `$orderby`, parsed into a syntax tree.
// Grammar and operator precedence as OGC 18-088 §9.3.3.5 (after OData 4.0 ABNF): or < and < eq/ne <
// gt/ge/lt/le < add/sub < mul/div/mod < not/unary minus < primary. Nothing here builds SQL: sql-compiler.ts
// turns the tree into SQL with every literal as a bind parameter.

export class StaQueryError extends Error {}

export type Literal =
  | { k: 'lit'; type: 'string'; value: string }
  | { k: 'lit'; type: 'number'; value: number }
  | { k: 'lit'; type: 'bool'; value: boolean }
  | { k: 'lit'; type: 'null'; value: null }
  | { k: 'lit'; type: 'time'; value: Date }
  | { k: 'lit'; type: 'interval'; value: { start: Date; end: Date } }
  | { k: 'lit'; type: 'duration'; value: string }
  | { k: 'lit'; type: 'geo'; value: Geometry };

export type Geometry =
  | { type: 'Point'; coordinates: [number, number] }
  | { type: 'LineString'; coordinates: [number, number][] }
  | { type: 'Polygon'; coordinates: [number, number][][] };

export const BINARY_OPS = ['or', 'and', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'add', 'sub', 'mul', 'div', 'mod'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type Expr =
  | Literal
  | { k: 'path'; segs: string[] }
  | { k: 'bin'; op: BinaryOp; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'fn'; name: string; args: Expr[] }
  /** `Datastreams/any(d: d/result gt 5)`, `Datastreams/all(d: …)`, `Datastreams/any()` [OData 4.01 §5.1.1.13] */
  | { k: 'lambda'; op: 'any' | 'all'; path: string[]; v?: string; body?: Expr };

type Tok =
  | { t: 'lit'; lit: Literal; at: number }
  | { t: 'word'; v: string; at: number } // identifiers, paths (a/b/c), operators, function names
  | { t: '(' | ')' | ',' | ':'; at: number };

const MAX_LENGTH = 4000;
const MAX_DEPTH = 40;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})/;
const NUMBER = /^\d+(\.\d+)?([eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_@$][A-Za-z0-9_.@$]*(\/[A-Za-z_@$][A-Za-z0-9_.@$]*)*/;

function parseTime(s: string, at: number): Date {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new StaQueryError(`invalid date-time '${s}' at position ${at}`);
  return d;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === ':') {
      out.push({ t: c, at: i });
      i++;
      continue;
    }
    if (c === "'") {
      const { value, end } = readQuoted(src, i);
      out.push({ t: 'lit', lit: { k: 'lit', type: 'string', value }, at: i });
      i = end;
      continue;
    }
    const rest = src.slice(i);
    const dt = DATE_TIME.exec(rest);
    if (dt) {
      // an interval is two instants joined by '/' [OGC 18-088 §9.3.3.5.2, ISO 8601]
      const after = rest.slice(dt[0].length);
      const dt2 = after.startsWith('/') ? DATE_TIME.exec(after.slice(1)) : null;
      if (dt2) {
        out.push({ t: 'lit', lit: { k: 'lit', type: 'interval', value: { start: parseTime(dt[0], i), end: parseTime(dt2[0], i) } }, at: i });
        i += dt[0].length + 1 + dt2[0].length;
      } else {
        out.push({ t: 'lit', lit: { k: 'lit', type: 'time', value: parseTime(dt[0], i) }, at: i });
        i += dt[0].length;
      }
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      out.push({ t: 'lit', lit: { k: 'lit', type: 'number', value: Number(num[0]) }, at: i });
      i += num[0].length;
      continue;
    }
    if (c === '-') {
      out.push({ t: 'word', v: '-', at: i });
      i++;
      continue;
    }
    const w = WORD.exec(rest);
    if (w) {
      const word = w[0];
      // typed literals: duration'P1D', geography'POINT(1 2)', geometry'…'
      if (rest[word.length] === "'" && /^(duration|geography|geometry)$/i.test(word)) {
        const { value, end } = readQuoted(src, i + word.length);
        const lit: Literal =
          word.toLowerCase() === 'duration'
            ? { k: 'lit', type: 'duration', value: checkDuration(value, i) }
            : { k: 'lit', type: 'geo', value: parseWkt(value, i) };
        out.push({ t: 'lit', lit, at: i });
        i = end;
        continue;
      }
      if (word === 'true' || word === 'false') out.push({ t: 'lit', lit: { k: 'lit', type: 'bool', value: word === 'true' }, at: i });
      else if (word === 'null') out.push({ t: 'lit', lit: { k: 'lit', type: 'null', value: null }, at: i });
      else out.push({ t: 'word', v: word, at: i });
      i += word.length;
      continue;
    }
    throw new StaQueryError(`unexpected character '${c}' at position ${i}`);
  }
  return out;
}

/** A single-quoted OData string; a quote inside is doubled (''). */
function readQuoted(src: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let value = '';
  for (;;) {
    if (i >= src.length) throw new StaQueryError(`unterminated string starting at position ${start}`);
    if (src[i] === "'") {
      if (src[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += src[i];
    i++;
  }
}

function checkDuration(v: string, at: number): string {
  if (!/^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(v) || v === 'P' || v.endsWith('T'))
    throw new StaQueryError(`invalid duration '${v}' at position ${at} (ISO 8601, e.g. P1DT2H)`);
  return v;
}

/** WKT POINT, LINESTRING and POLYGON (the shapes the station points are tested against). */
export function parseWkt(src: string, at: number): Geometry {
  const s = src.trim();
  const num = (x: string) => {
    const n = Number(x);
    if (!Number.isFinite(n)) throw new StaQueryError(`invalid coordinate '${x}' in geometry at position ${at}`);
    return n;
  };
  const pair = (p: string): [number, number] => {
    const xy = p.trim().split(/\s+/);
    if (xy.length < 2 || xy.length > 3) throw new StaQueryError(`invalid coordinate pair '${p.trim()}' in geometry at position ${at}`);
    return [num(xy[0]), num(xy[1])];
  };
  const point = /^POINT\s*\(([^()]*)\)$/i.exec(s);
  if (point) return { type: 'Point', coordinates: pair(point[1]) };
  const line = /^LINESTRING\s*\(([^()]*)\)$/i.exec(s);
  if (line) {
    const pts = line[1].split(',').map(pair);
    if (pts.length < 2) throw new StaQueryError(`a LINESTRING needs at least 2 points at position ${at}`);
    return { type: 'LineString', coordinates: pts };
  }
  const poly = /^POLYGON\s*\((\s*\([^()]*\)\s*(,\s*\([^()]*\)\s*)*)\)$/i.exec(s);
  if (poly) {
    const rings = [...poly[1].matchAll(/\(([^()]*)\)/g)].map((m) => m[1].split(',').map(pair));
    for (const r of rings) if (r.length < 4) throw new StaQueryError(`a polygon ring needs at least 4 points (closed) at position ${at}`);
    return { type: 'Polygon', coordinates: rings };
  }
  throw new StaQueryError(`unsupported geometry '${s.slice(0, 40)}' at position ${at}: POINT(x y), LINESTRING(x y, …) or POLYGON((x y, …)) expected`);
}

const PRECEDENCE: Array<readonly BinaryOp[]> = [['or'], ['and'], ['eq', 'ne'], ['gt', 'ge', 'lt', 'le'], ['add', 'sub'], ['mul', 'div', 'mod']];
const NOT_OPERAND_LEVEL = 2;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private toks: Tok[]) {}

  parseAll(): Expr {
    const e = this.binary(0);
    const t = this.toks[this.i];
    if (t) throw new StaQueryError(`unexpected ${describe(t)} at position ${t.at}`);
    return e;
  }

  private enter() {
    if (++this.depth > MAX_DEPTH) throw new StaQueryError(`expression nested deeper than ${MAX_DEPTH} levels`);
  }

  private binary(level: number): Expr {
    if (level >= PRECEDENCE.length) return this.unary();
    let l = this.binary(level + 1);
    for (;;) {
      const t = this.toks[this.i];
      if (t?.t !== 'word' || !(PRECEDENCE[level] as readonly string[]).includes(t.v)) break;
      this.i++;
      const r = this.binary(level + 1);
      l = { k: 'bin', op: t.v as BinaryOp, l, r };
    }
    return l;
  }

  private unary(): Expr {
    const t = this.toks[this.i];
    if (t?.t === 'word' && (t.v === 'not' || t.v === '-')) {
      this.i++;
      this.enter();
      // `not a eq 1` is not (a eq 1): OData's notExpr takes a whole comparison [OData 4.01 ABNF notExpr]
      const e = t.v === 'not' ? this.binary(NOT_OPERAND_LEVEL) : this.unary();
      this.depth--;
      if (t.v === '-' && e.k === 'lit' && e.type === 'number') return { k: 'lit', type: 'number', value: -e.value };
      return t.v === 'not' ? { k: 'not', e } : { k: 'neg', e };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.toks[this.i++];
    if (!t) throw new StaQueryError('unexpected end of expression');
    if (t.t === 'lit') return t.lit;
    if (t.t === '(') {
      this.enter();
      const e = this.binary(0);
      this.depth--;
      this.expect(')');
      return e;
    }
    if (t.t === 'word') {
      if (t.v === '-' || (BINARY_OPS as readonly string[]).includes(t.v) || t.v === 'not')
        throw new StaQueryError(`unexpected operator '${t.v}' at position ${t.at}`);
      if (this.toks[this.i]?.t === '(') {
        const segs = t.v.split('/');
        const last = segs[segs.length - 1].toLowerCase();
        if (segs.length > 1 && (last === 'any' || last === 'all')) return this.lambda(segs.slice(0, -1), last, t.at);
        this.i++;
        const args: Expr[] = [];
        this.enter();
        if (this.toks[this.i]?.t !== ')') {
          for (;;) {
            args.push(this.binary(0));
            if (this.toks[this.i]?.t === ',') {
              this.i++;
              continue;
            }
            break;
          }
        }
        this.depth--;
        this.expect(')');
        return { k: 'fn', name: t.v.toLowerCase(), args };
      }
      return { k: 'path', segs: t.v.split('/') };
    }
    throw new StaQueryError(`unexpected ${describe(t)} at position ${t.at}`);
  }

  /** After `path/any` or `path/all`: `()`, or `(v: condition)` with `v` naming each member of the collection. */
  private lambda(path: string[], op: 'any' | 'all', at: number): Expr {
    this.expect('(');
    if (this.toks[this.i]?.t === ')') {
      this.i++;
      if (op === 'all') throw new StaQueryError(`all() needs a condition, e.g. ${path.join('/')}/all(x: x/result gt 0), at position ${at}`);
      return { k: 'lambda', op, path };
    }
    const v = this.toks[this.i];
    if (v?.t !== 'word' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.v) || this.toks[this.i + 1]?.t !== ':')
      throw new StaQueryError(`${op}( must start with a variable and ':', e.g. ${path.join('/')}/${op}(x: x/name eq 'a'), at position ${at}`);
    this.i += 2;
    this.enter();
    const body = this.binary(0);
    this.depth--;
    this.expect(')');
    return { k: 'lambda', op, path, v: v.v, body };
  }

  private expect(c: '(' | ')' | ',') {
    const t = this.toks[this.i];
    if (t?.t !== c) throw new StaQueryError(t ? `expected '${c}' but found ${describe(t)} at position ${t.at}` : `expected '${c}' at the end`);
    this.i++;
  }
}

function describe(t: Tok): string {
  if (t.t === 'lit') return `literal ${t.lit.type}`;
  if (t.t === 'word') return `'${t.v}'`;
  return `'${t.t}'`;
}

/** Parses a `$filter` (or one `$orderby` item's expression) into a tree; throws StaQueryError with the position. */
export function parseExpression(src: string): Expr {
  if (src.length > MAX_LENGTH) throw new StaQueryError(`expression longer than ${MAX_LENGTH} characters`);
  if (!src.trim()) throw new StaQueryError('empty expression');
  return new Parser(tokenize(src)).parseAll();
}
