// $filter is parsed to a tree and compiled with every literal as a bind parameter: fuzzed with fast-check,
// including the classic SQL-injection payloads, nothing a client writes reaches the SQL text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTITIES, type EntitySet, SqlParams } from './entity-store.ts';
import { type Expr, parseExpression, StaQueryError } from './filter-parser.ts';
import { parseOptions } from './query-options.ts';
import { Compiler } from './sql-compiler.ts';

const INJECTIONS = [
  "'; drop table devices; --",
  "' or '1'='1",
  "x') or 1=1 --",
  '"; select pg_sleep(10); --',
  "\\'; delete from readings where ''='",
  "$1'||(select password_hash from mqtt_credentials limit 1)||'",
  '*/ union select * from api_tokens /*',
];
const SENTINEL = 'zq9Sentinel';

function compile(set: EntitySet, src: string) {
  const q = new SqlParams();
  const sql = new Compiler(q).filter(parseExpression(src), { def: ENTITIES[set], alias: 'a0', known: {} });
  return { sql, params: q.values };
}
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

const stringValue = fc.oneof(fc.constantFrom(...INJECTIONS), fc.string({ maxLength: 30 })).map((s) => `${SENTINEL}${s}`);
const numberValue = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
const thingString = fc.constantFrom('name', 'description', '@iot.id', 'properties/municipality', 'Datastreams/name', 'Locations/name');
const obsNumber = fc.constantFrom('result', 'Datastream/Thing/properties/x');
const cmp = fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le');

/** Random well-formed filters over Things with hostile string literals. */
const thingFilter: fc.Arbitrary<string> = fc.letrec((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(thingString, cmp, stringValue).map(([p, o, v]) => `${p} ${o} ${quote(v)}`),
    fc
      .tuple(fc.constantFrom('substringof', 'startswith', 'endswith', 'contains'), stringValue, thingString)
      .map(([f, v, p]) => (f === 'substringof' ? `${f}(${quote(v)}, ${p})` : `${f}(${p}, ${quote(v)})`)),
    fc.tuple(thingString, numberValue).map(([p, n]) => `length(${p}) gt ${n}`),
    fc.tuple(tie('cond'), fc.constantFrom('and', 'or'), tie('cond')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    tie('cond').map((c) => `not (${c})`),
    // lambda operators over collections, and geometry predicates with a hostile DE-9IM pattern
    fc.tuple(fc.constantFrom('any', 'all'), cmp, stringValue).map(([op, o, v]) => `Datastreams/${op}(d: d/ObservedProperty/name ${o} ${quote(v)})`),
    fc.tuple(stringValue, tie('cond')).map(([v, c]) => `Datastreams/any(d: d/Observations/all(o: o/Datastream/name ne ${quote(v)}) and (${c}))`),
    stringValue.map((v) => `Locations/any(l: st_relate(l/location, geography'POLYGON((8 50, 9 50, 9 51, 8 50))', ${quote(v)}))`),
  ),
})).cond as fc.Arbitrary<string>;

describe('$filter → SQL', () => {
  it('never puts a string literal into the SQL text: each one is a bind parameter (fuzzed)', () => {
    fc.assert(
      fc.property(thingFilter, (src) => {
        const { sql, params } = compile('Things', src);
        expect(sql).not.toContain(SENTINEL);
        for (const inj of INJECTIONS) expect(sql).not.toContain(inj);
        if (src.includes(SENTINEL)) expect(params.some((p) => typeof p === 'string' && p.startsWith(SENTINEL))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('puts numbers, times and geometries into parameters too', () => {
    fc.assert(
      fc.property(obsNumber, cmp, numberValue, fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }), (p, o, n, d) => {
        const { sql, params } = compile('Observations', `${p} ${o} ${n} and phenomenonTime lt ${d.toISOString()}`);
        expect(sql).not.toContain(d.toISOString());
        expect(params).toContain(n);
        expect(params).toContain(d.toISOString());
      }),
      { numRuns: 200 },
    );
    const { sql, params } = compile('Locations', "st_within(location, geography'POLYGON((8 50, 9 50, 9 51, 8 51, 8 50))')");
    expect(sql).not.toMatch(/\d{2}/);
    expect(params).toContain('((8,50),(9,50),(9,51),(8,51),(8,50))');
  });

  it('answers any text with a tree or a StaQueryError, never another exception (fuzzed)', () => {
    const pieces = fc.constantFrom(
      'name',
      ' eq ',
      "'",
      "''",
      '(',
      ')',
      ',',
      ' and ',
      ' or ',
      'not ',
      '-',
      '1.5e3',
      '2026-05-01T00:00:00Z',
      '/',
      'geography',
      "duration'P1D'",
      'substringof',
      'Datastreams/name',
      'Datastreams/any(',
      '/all(d:',
      'd/name',
      ':',
      '$it/name',
      "geography'LINESTRING(1 2, 3 4)'",
      'st_relate(',
      'geo.length(',
      '@iot.id',
      ';',
      '--',
      '$',
      ...INJECTIONS,
    );
    const texts = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(pieces, { maxLength: 12 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(texts, fc.constantFrom<EntitySet>('Things', 'Observations', 'Datastreams', 'Locations'), (src, set) => {
        try {
          const q = new SqlParams();
          const tree: Expr = parseExpression(src);
          new Compiler(q).filter(tree, { def: ENTITIES[set], alias: 'a0', known: {} });
        } catch (e) {
          if (!(e instanceof StaQueryError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names only columns of the entity definitions: an unknown name is refused, not passed on', () => {
    for (const src of [
      "Datastreams/any(d: d/Thing/devEui eq '1')",
      "Datastreams/any(pg_sleep: pg_sleep/name eq 'x')",
      "Datastreams/any(d: x/name eq 'x')",
      '"name" eq 1',
      'name; drop table x eq 1',
      'pg_sleep(10) eq 1',
      'Datastream/Thing/devEui eq 1',
      'params/codec eq 1',
    ]) {
      expect(() => compile('Observations', src), src).toThrow(StaQueryError);
    }
  });

  it('parses operator precedence as OData: not > mul > add > comparison > and > or', () => {
    expect(parseExpression('a eq 1 or b eq 2 and c eq 3')).toMatchObject({ k: 'bin', op: 'or', r: { op: 'and' } });
    expect(parseExpression('result add 2 mul 3 gt 7')).toMatchObject({ op: 'gt', l: { op: 'add', r: { op: 'mul' } } });
    expect(parseExpression('not a eq 1')).toMatchObject({ k: 'not', e: { op: 'eq' } });
    expect(parseExpression('not a eq 1 and b eq 2')).toMatchObject({ op: 'and', l: { k: 'not' } });
    expect(parseExpression("name eq 'O''Brien'")).toMatchObject({ r: { value: "O'Brien" } });
    expect(parseExpression('result gt -3')).toMatchObject({ r: { type: 'number', value: -3 } });
  });

  it('reads nested $expand options with ; and parentheses', () => {
    const o = parseOptions(
      new Map([['$expand', "Datastreams($filter=name eq 'a;b(c)';$top=1;$expand=Observations($orderby=phenomenonTime desc;$top=2)),Locations"]]),
    );
    expect(o.expand.map((e) => e.path[0])).toEqual(['Datastreams', 'Locations']);
    expect(o.expand[0].options.top).toBe(1);
    expect(o.expand[0].options.filter).toMatchObject({ r: { value: 'a;b(c)' } });
    expect(o.expand[0].options.expand[0].options).toMatchObject({ top: 2, orderby: [{ desc: true }] });
  });
});
