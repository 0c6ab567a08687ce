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

// A page of Observations ordered by time is first looked for in a window next to its start (the newest within a
// day of now, a page after a cursor within 7 days of it), and read again without the window when the window
// holds less than the page. Readings here: 30 in the last hours, the day of T0, 5 nine days after it, 20 twenty
// days before it, so pages cross the windows' edges and gaps longer than a window.
describe('open data on the embedded store: pages across time windows', () => {
  const newest = Math.floor(Date.now() / STEP) * STEP - 40 * STEP;
  const values = async (first: string) => {
    const seen: number[] = [];
    let url: string | undefined = `${o.sta}${first}`;
    for (let pages = 0; url && pages < 200; pages++) {
      const r = await o.ok(url);
      seen.push(...r.value.map((x: any) => x.result));
      url = r['@iot.nextLink'];
    }
    return seen;
  };
  const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
  const ascending = [...range(1000, 20), ...range(100, 288), ...range(2000, 5), ...range(3000, 30)];
  const descending = [...ascending].reverse();

  beforeAll(async () => {
    await o.insertReadings('pegel-lahn', 'level_cm', 20, (i) => 1000 + i, 0, T0 - 20 * 86_400_000);
    await o.insertReadings('pegel-lahn', 'level_cm', 5, (i) => 2000 + i, 0, T0 + 9 * 86_400_000);
    await o.insertReadings('pegel-lahn', 'level_cm', 30, (i) => 3000 + i, 0, newest);
  });

  it('newest first: the latest value, cursor pages and $skip give every reading once, in order', async () => {
    const ds = "/Datastreams('pegel-lahn~level_cm')/Observations";
    expect((await o.ok(`${ds}?$orderby=phenomenonTime desc&$top=1`)).value[0].result).toBe(3029);
    expect(await values(`${ds}?$orderby=phenomenonTime%20desc&$top=7`)).toEqual(descending);
    expect((await o.ok(`${ds}?$orderby=phenomenonTime desc&$top=5&$skip=28`)).value.map((x: any) => x.result)).toEqual(descending.slice(28, 33));
    expect((await o.ok(`${ds}?$orderby=phenomenonTime desc,result desc&$top=40`)).value.map((x: any) => x.result)).toEqual(descending.slice(0, 40));
  });

  it('oldest first: cursor pages across gaps longer than a window give every reading once, in order', async () => {
    expect(await values("/Datastreams('pegel-lahn~level_cm')/Observations?$top=50")).toEqual(ascending);
    expect(await values("/Datastreams('pegel-lahn~level_cm')/Observations?$orderby=phenomenonTime%20asc&$top=17")).toEqual(ascending);
    const all = await values(`/Observations?$filter=${encodeURIComponent("Datastream/@iot.id eq 'pegel-lahn~level_cm'")}&$top=64`);
    expect(all).toEqual(ascending);
  });
});
