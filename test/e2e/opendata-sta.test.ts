// Open data as a citizen or a portal sees it: the SensorThings API v1.1 over the public gauges of a
// municipality that switched open data on. Replays the request examples of OGC 18-088 and FROST-Server's
// documentation and checks the fields the spec requires in each answer; hidden devices stay 404 everywhere.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenDataSystem, openDataSystem, T0 } from '../helpers/opendata.ts';

let o: OpenDataSystem;
let s: OpenDataSystem['s'];
let STA: string;
let tk: Record<string, string>;
let get: OpenDataSystem['get'];
let ok: OpenDataSystem['ok'];

beforeAll(async () => {
  o = await openDataSystem();
  ({ s, sta: STA, tk, get, ok } = o);
}, 120_000);
afterAll(() => s?.close());

describe('switching open data on', () => {
  it('is a municipality admin decision: its own admin may, another municipality may not, a viewer may not', async () => {
    const viewer = (await s.ok('POST', '/api/v1/tokens', { name: 'giessen-viewer', role: 'viewer', org: 'giessen' })).token;
    expect((await s.api('PUT', '/api/v1/orgs/giessen/open-data', { enabled: false }, tk.wetzlar)).status).toBe(403);
    expect((await s.api('PUT', '/api/v1/orgs/giessen/open-data', { enabled: false }, viewer)).status).toBe(403);
    const got = await s.api('GET', '/api/v1/orgs/giessen/open-data', undefined, viewer);
    expect(got.body).toMatchObject({
      org: 'giessen',
      enabled: true,
      license: 'dl-de/by-2-0',
      publisher: 'Universitätsstadt Gießen',
      contact: 'opendata@giessen.de',
    });
    expect(got.body.licenseUri).toBe('http://dcat-ap.de/def/licenses/dl-by-de/2.0');
    const bad = await s.api('PUT', '/api/v1/orgs/giessen/open-data', { enabled: true, license: 'mine', contact: 'not a contact' }, tk.giessen);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/license must be one of/);
  });
  it("shows a device's public flag on the operator API", async () => {
    expect((await s.api('GET', '/api/v1/devices/rg-privat', undefined, tk.giessen)).body.public).toBe(false);
    expect((await s.api('GET', '/api/v1/devices/rg-nord', undefined, tk.giessen)).body.public).toBe(null);
  });
});

describe('the service root [OGC 18-088 §9.2.1]', () => {
  it('lists every entity set with its URL and the conformance classes', async () => {
    const root = await ok('');
    expect(root.value.map((v: any) => v.name)).toEqual([
      'Things',
      'Locations',
      'HistoricalLocations',
      'Datastreams',
      'Sensors',
      'ObservedProperties',
      'Observations',
      'FeaturesOfInterest',
    ]);
    for (const v of root.value) expect(v.url).toBe(`${STA}/${v.name}`);
    expect(root.serverSettings.conformance).toContain('http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel');
  });
});

describe('entities', () => {
  it('GET Things lists only public stations, each with the required fields', async () => {
    const r = await ok('/Things');
    expect(r.value.map((t: any) => t['@iot.id'])).toEqual(['pegel-lahn', 'rg-nord']);
    for (const t of r.value) {
      expect(Object.keys(t)).toEqual(
        expect.arrayContaining([
          '@iot.id',
          '@iot.selfLink',
          'name',
          'description',
          'Locations@iot.navigationLink',
          'HistoricalLocations@iot.navigationLink',
          'Datastreams@iot.navigationLink',
        ]),
      );
      expect(t['@iot.selfLink']).toBe(`${STA}/Things('${t['@iot.id']}')`);
    }
    expect(JSON.stringify(r)).not.toMatch(/A84041000181C61A|mmPerTip|mountHeight|devEui|params/);
  });
  it('GET Datastreams: one per public station and published metric (no battery), with unit, type and time range', async () => {
    const r = await ok('/Datastreams');
    expect(r.value.map((d: any) => d['@iot.id'])).toEqual(['pegel-lahn~level_cm', 'rg-nord~rain_mm']);
    const d = r.value[1];
    expect(d).toMatchObject({
      name: 'Regenschreiber Gießen-Nord: Niederschlag',
      observationType: 'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement',
      unitOfMeasurement: { name: 'Millimetre', symbol: 'mm', definition: 'http://qudt.org/vocab/unit/MilliM' },
      phenomenonTime: '2026-05-01T00:00:00.000Z/2026-05-01T23:55:00.000Z',
      observedArea: { type: 'Point', coordinates: [8.6784, 50.5841] },
    });
    for (const k of [
      'description',
      'Thing@iot.navigationLink',
      'Sensor@iot.navigationLink',
      'ObservedProperty@iot.navigationLink',
      'Observations@iot.navigationLink',
    ])
      expect(d).toHaveProperty([k]);
  });
  it('GET Observations of a Datastream: phenomenonTime, resultTime, result, links; flagged readings left out', async () => {
    const r = await ok("/Datastreams('pegel-lahn~level_cm')/Observations?$top=2");
    expect(r.value[0]).toMatchObject({
      phenomenonTime: '2026-05-01T00:00:00.000Z',
      resultTime: '2026-05-01T00:00:00.000Z',
      result: 100,
      resultQuality: ['ok'],
    });
    expect(r.value[1].result).toBe(101); // the 9999 with a spike flag is not published
    for (const k of ['@iot.id', '@iot.selfLink', 'Datastream@iot.navigationLink', 'FeatureOfInterest@iot.navigationLink'])
      expect(r.value[0]).toHaveProperty([k]);
    const one = await ok(`/Observations('${r.value[0]['@iot.id']}')`);
    expect(one.result).toBe(100);
  });
  it('Sensors, ObservedProperties, Locations, HistoricalLocations and FeaturesOfInterest carry their required fields', async () => {
    const sensors = (await ok('/Sensors')).value;
    expect(sensors.map((x: any) => x['@iot.id']).sort()).toEqual(['dragino-ldds75', 'dragino-sn50v3-count']); // not the hidden device's model
    for (const x of sensors) for (const k of ['name', 'description', 'encodingType', 'metadata']) expect(x[k]).toBeTruthy();
    const ops = (await ok('/ObservedProperties')).value;
    expect(ops.map((x: any) => x['@iot.id'])).toEqual(['level_cm', 'rain_mm']);
    for (const x of ops) for (const k of ['name', 'definition', 'description']) expect(x[k]).toBeTruthy();
    const loc = await ok("/Locations('rg-nord')");
    expect(loc).toMatchObject({ encodingType: 'application/geo+json', location: { type: 'Point', coordinates: [8.6784, 50.5841] } });
    expect(loc.name).toBeTruthy();
    expect(loc.description).toBeTruthy();
    const hl = (await ok("/Things('rg-nord')/HistoricalLocations")).value[0];
    expect(hl.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    const foi = await ok("/FeaturesOfInterest('rg-nord')");
    expect(foi).toMatchObject({ encodingType: 'application/geo+json', feature: { type: 'Point' } });
  });
});

describe('hidden devices are 404 everywhere', () => {
  const hidden = [
    "/Things('rg-privat')",
    "/Things('wz-01')",
    "/Datastreams('rg-privat~rain_mm')",
    "/Datastreams('wz-01~level_cm')",
    "/Locations('rg-privat')",
    "/FeaturesOfInterest('wz-01')",
    "/Things('rg-privat')/Datastreams",
    "/Datastreams('rg-nord~battery_v')",
    `/Observations('rg-privat~rain_mm~${new Date(T0).toISOString()}')`,
    "/Sensors('sensecap-s2120')",
  ];
  for (const p of hidden) {
    it(`GET ${p} → 404`, async () => {
      const r = await get(p);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    });
  }
  it('no hidden device appears through $expand, $filter or a navigation path', async () => {
    const all = JSON.stringify(await ok('/Things?$expand=Datastreams($expand=Observations($top=1)),Locations'));
    const obs = JSON.stringify(await ok('/Observations?$top=10000&$filter=result ge 5'));
    const viaFoi = JSON.stringify(await ok("/Observations?$filter=FeatureOfInterest/@iot.id eq 'rg-privat'"));
    for (const text of [all, obs, viaFoi]) expect(text).not.toMatch(/rg-privat|wz-01|Bauhof|Wetzlar/);
  });
  it('a municipality switching open data off takes all its stations away', async () => {
    await s.ok('PUT', '/api/v1/orgs/giessen/open-data', { enabled: false });
    try {
      expect((await ok('/Things')).value).toEqual([]);
      expect((await get("/Things('rg-nord')")).status).toBe(404);
    } finally {
      await s.ok('PUT', '/api/v1/orgs/giessen/open-data', { enabled: true });
    }
  });
});

describe('hostile $filter values against the real database (fuzzed)', () => {
  it('answer 200 or 400, never 500; never show a hidden device; leave every table as it was', async () => {
    const before = await s.ctx.db.query<{ d: number; r: number; t: number }>(
      'select (select count(*)::int from devices) d, (select count(*)::int from readings) r, (select count(*)::int from api_tokens) t',
    );
    const payloads = [
      "'; drop table devices; --",
      "' or '1'='1",
      "x') or 1=1 --",
      "' union select dev_eui from devices --",
      "\\'; delete from readings where ''='",
      '%27%20or%201=1',
      "rg-privat' or '1'='1",
    ];
    const paths = ['name', '@iot.id', 'description', 'Datastreams/name', 'Datastreams/Observations/FeatureOfInterest/@iot.id', 'properties/municipality'];
    const filters = fc.sample(
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...paths), fc.constantFrom('eq', 'ne', 'gt'), fc.constantFrom(...payloads))
          .map(([p, o, v]) => `${p} ${o} '${v.replace(/'/g, "''")}'`),
        fc.tuple(fc.constantFrom(...paths), fc.constantFrom(...payloads)).map(([p, v]) => `${p} eq '${v}'`), // unbalanced quotes: a 400
        fc.tuple(fc.constantFrom(...payloads), fc.constantFrom(...paths)).map(([v, p]) => `substringof('${v.replace(/'/g, "''")}', ${p})`),
        fc.string({ maxLength: 40 }),
      ),
      { numRuns: 150, seed: 15 },
    );
    for (const f of filters) {
      for (const set of ['Things', 'Observations']) {
        const r = await get(`/${set}?$top=50&$filter=${encodeURIComponent(f)}`);
        expect([200, 400], `${set} $filter=${f}: ${r.text.slice(0, 200)}`).toContain(r.status);
        // (the nextLink repeats the filter as given; the entities are what must not show a hidden device)
        if (r.status === 200) expect(JSON.stringify(r.body.value)).not.toMatch(/rg-privat|wz-01|A84041000181C61A/);
      }
    }
    const after = await s.ctx.db.query(
      'select (select count(*)::int from devices) d, (select count(*)::int from readings) r, (select count(*)::int from api_tokens) t',
    );
    expect(after.rows).toEqual(before.rows);
  }, 120_000);
});

describe('anonymous HTTP: CORS, caching, its own rate limit', () => {
  it('any origin may read; answers are cacheable with an ETag, and If-None-Match gets 304', async () => {
    const r = await get('/Things', { origin: 'https://example.org' });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^W\/"/);
    const again = await get('/Things', { 'if-none-match': etag as string });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const pre = await fetch(`${STA}/Things`, { method: 'OPTIONS', headers: { origin: 'https://example.org', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/GET/);
  });
  it('counts open-data requests apart from the operator API (OPEN_DATA_RATE_LIMIT, default 600 a minute)', async () => {
    const r = await get('/Things');
    expect(r.headers.get('x-ratelimit-limit')).toBe('600');
    const api = await fetch(`${s.httpUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(api.headers.get('x-ratelimit-limit')).toBe('3000');
    expect(api.headers.get('access-control-allow-origin')).toBeNull();
  });
  it('errors are JSON with a stable code and never cached', async () => {
    const r = await get("/Things('nope')");
    expect(r.status).toBe(404);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.error).toMatchObject({ code: 'NOT_FOUND', message: "no Thing with id 'nope'" });
  });
});
