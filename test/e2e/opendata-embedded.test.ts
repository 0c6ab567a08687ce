// The open-data endpoints on the embedded store (PGlite with TimescaleDB, readings in a hypertable): the same
// answers as on PostgreSQL for the main paths (the full suite runs on PostgreSQL in opendata-*.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenDataSystem, openDataSystem, STEP, T0 } from '../helpers/opendata.ts';

let o: OpenDataSystem;
const iso = (i: number) => new Date(T0 + i * STEP).toISOString();

beforeAll(async () => {
  o = await openDataSystem({ store: 'pglite' });
}, 180_000);
afterAll(() => o?.s.close());

describe('open data on the embedded store', () => {
  it('lists public stations, hides the others, and answers filters, navigation and nested $expand', async () => {
    expect(o.s.ctx.db.kind).toBe('pglite');
    expect((await o.ok('/Things')).value.map((t: any) => t['@iot.id'])).toEqual(['pegel-lahn', 'rg-nord']);
    expect((await o.get("/Things('rg-privat')")).status).toBe(404);
    const ds = await o.ok("/Datastreams('pegel-lahn~level_cm')");
    expect(ds.phenomenonTime).toBe(`${iso(0)}/${iso(287)}`);
    const latest = await o.ok('/Things?$expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))');
    const lahn = latest.value.find((t: any) => t['@iot.id'] === 'pegel-lahn');
    expect(lahn.Datastreams[0].Observations[0]).toMatchObject({ result: 387, phenomenonTime: iso(287) });
    const f = await o.ok(`/Observations?$filter=${encodeURIComponent("Datastream/Thing/name eq 'Pegel Lahn' and result gt 380")}&$count=true`);
    expect(f['@iot.count']).toBe(7);
    const poly = "geography'POLYGON((8.67 50.58, 8.69 50.58, 8.69 50.59, 8.67 50.59, 8.67 50.58))'";
    expect((await o.ok(`/Locations?$filter=st_within(location, ${poly})`)).value.map((x: any) => x['@iot.id'])).toEqual(['rg-nord']);
  });
  it('pages by @iot.nextLink cursor, and answers any()/all() and the line and boundary geo functions', async () => {
    let url: string | undefined = `${o.sta}/Datastreams('pegel-lahn~level_cm')/Observations?$orderby=phenomenonTime%20desc&$top=100`;
    const seen: number[] = [];
    for (let pages = 0; url && pages < 5; pages++) {
      const r = await o.ok(url);
      seen.push(...r.value.map((x: any) => x.result));
      url = r['@iot.nextLink'];
      if (url) expect(url).toContain('$skiptoken=');
    }
    expect(seen).toEqual(Array.from({ length: 288 }, (_, i) => 387 - i));
    const things = async (f: string) => (await o.ok(`/Things?$filter=${encodeURIComponent(f)}`)).value.map((x: any) => x['@iot.id']);
    expect(await things("Datastreams/any(d: d/ObservedProperty/name eq 'Niederschlag')")).toEqual(['rg-nord']);
    expect(await things("Datastreams/all(d: d/ObservedProperty/@iot.id eq 'level_cm')")).toEqual(['pegel-lahn']);
    const line = "geography'LINESTRING(8.6621 50.5702, 8.6784 50.5841)'";
    const edge = "geography'POLYGON((8.6621 50.56, 8.70 50.56, 8.70 50.60, 8.6621 50.60, 8.6621 50.56))'";
    const locs = async (f: string) => (await o.ok(`/Locations?$filter=${encodeURIComponent(f)}`)).value.map((x: any) => x['@iot.id']);
    expect(await locs(`st_intersects(location, ${line}) and geo.length(${line}) gt 0.02`)).toEqual(['pegel-lahn', 'rg-nord']);
    expect(await locs(`st_touches(location, ${edge})`)).toEqual(['pegel-lahn']);
  });
  it('streams the CSV download and answers the catalogue', async () => {
    const csv = await (await fetch(`${o.s.httpUrl}/open/downloads/pegel-lahn/level_cm/2026-05.csv`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('time,level_cm (cm),quality');
    expect(lines).toHaveLength(289);
    const cat = await (await fetch(`${o.s.httpUrl}/dcat/catalog.jsonld`)).json();
    expect(cat['@graph'].filter((n: any) => n['@type'].includes('dcat:Dataset'))).toHaveLength(2);
  });
});
