// Open data as a citizen or a portal sees it: the SensorThings API v1.1 over the public gauges of a
// municipality that switched open data on. Replays the request examples of OGC 18-088 and FROST-Server's
// documentation and checks the fields the spec requires in each answer; hidden devices stay 404 everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type TestSystem } from '../helpers/system.ts';

let s: TestSystem;
let STA: string;
const tk: Record<string, string> = {};
const T0 = Date.parse('2026-05-01T00:00:00Z');
const STEP = 300_000;

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${STA}${path}`, { headers });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, text, headers: res.headers };
}
async function ok(path: string) {
  const r = await get(path);
  if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status} ${r.text.slice(0, 300)}`);
  return r.body;
}

async function insertReadings(deviceId: string, metric: string, n: number, value: (i: number) => number, quality = () => 0) {
  const rows: unknown[] = [];
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    values.push(`($${rows.length + 1}, $${rows.length + 2}, $${rows.length + 3}, $${rows.length + 4}, $${rows.length + 5})`);
    rows.push(new Date(T0 + i * STEP), deviceId, metric, value(i), quality());
  }
  await s.ctx.db.query(`insert into readings(time, device_id, metric, value, quality) values ${values.join(',')}`, rows);
}

beforeAll(async () => {
  s = await startSystem({ store: 'pg' });
  STA = `${s.httpUrl}/sta/v1.1`;
  for (const org of ['giessen', 'wetzlar']) tk[org] = (await s.ok('POST', '/api/v1/tokens', { name: `${org}-admin`, role: 'admin', org })).token;
  const dev = (org: string, body: Record<string, unknown>) => s.api('POST', '/api/v1/devices', body, tk[org]);
  await dev('giessen', {
    id: 'rg-nord',
    name: 'Regenschreiber Gießen-Nord',
    model: 'dragino-sn50v3-count',
    devEui: 'A84041000181C61A',
    params: { mmPerTip: 0.2 },
    location: { lat: 50.5841, lon: 8.6784 },
  });
  await dev('giessen', {
    id: 'pegel-lahn',
    name: 'Pegel Lahn',
    model: 'dragino-ldds75',
    params: { mountHeightMm: 3000 },
    location: { lat: 50.5702, lon: 8.6621 },
  });
  await dev('giessen', { id: 'rg-privat', name: 'Regenschreiber Bauhof', model: 'sensecap-s2120', public: false, location: { lat: 50.59, lon: 8.7 } });
  await dev('wetzlar', { id: 'wz-01', name: 'Pegel Wetzlar', model: 'milesight-em310-udl', public: true, location: { lat: 50.556, lon: 8.504 } });
  const put = await s.api(
    'PUT',
    '/api/v1/orgs/giessen/open-data',
    { enabled: true, publisher: 'Universitätsstadt Gießen', contact: 'opendata@giessen.de' },
    tk.giessen,
  );
  expect(put.status).toBe(200);
  await insertReadings('rg-nord', 'rain_mm', 288, (i) => (i % 12 === 0 ? 1.2 : 0.2));
  await insertReadings('rg-nord', 'battery_v', 10, () => 3.6);
  await insertReadings('pegel-lahn', 'level_cm', 288, (i) => 100 + i);
  await s.ctx.db.query(`insert into readings(time, device_id, metric, value, quality) values ($1, 'pegel-lahn', 'level_cm', 9999, 4)`, [new Date(T0 + 30_000)]);
  await insertReadings('rg-privat', 'rain_mm', 20, () => 5);
  await insertReadings('wz-01', 'level_cm', 20, () => 50);
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
