// Open data beyond the SensorThings API: CSV downloads (RFC 4180, UTC with offset, unit in the header, a quality
// column), a month of every public station as a ZIP, the DCAT-AP.de catalogue in JSON-LD and Turtle (the same
// triples; the fields GovData requires), and the public CAP feed without internal text.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import jsonld from 'jsonld';
import { Parser as TurtleParser } from 'n3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenDataSystem, openDataSystem, STEP, T0 } from '../helpers/opendata.ts';
import { publish, waitFor } from '../helpers/system.ts';

let o: OpenDataSystem;
let BASE: string;
const XSD = path.resolve(import.meta.dirname, '../fixtures/cap/CAP-v1.2.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-opendata-'));

beforeAll(async () => {
  o = await openDataSystem({ env: { CAP_ARS: 'giessen=065310005005' } });
  BASE = o.s.httpUrl;
  // a second month for rg-nord: the year file spans both, the May ZIP only May
  await o.insertReadings('rg-nord', 'rain_mm', 10, () => 0.4, 0, Date.parse('2026-06-03T00:00:00Z'));
  await o.insertReadings('rg-nord', 'rain_mm', 1, () => 0.6, 16, Date.parse('2026-06-04T00:00:00Z')); // clock_skew: still published, and says so
}, 120_000);
afterAll(async () => {
  await o?.s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fetchBytes(p: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${BASE}${p}`, { headers });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

/** The entries of a ZIP read through its central directory, each inflated and its CRC-32 checked. */
function unzip(buf: Buffer): Map<string, string> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThan(0);
  const n = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    expect(buf.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    const plain = method === 8 ? zlib.inflateRawSync(data) : data;
    expect(zlib.crc32(plain), `CRC of ${name}`).toBe(crc);
    out.set(name, plain.toString('utf8'));
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

describe('CSV downloads', () => {
  it('a month of one station: RFC 4180, UTC times with offset, unit in the header, quality column, only checked readings', async () => {
    const r = await fetchBytes('/open/downloads/pegel-lahn/level_cm/2026-05.csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="pegel-lahn_level_cm_2026-05.csv"');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const lines = r.bytes.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('time,level_cm (cm),quality');
    expect(lines[1]).toBe('2026-05-01T00:00:00+00:00,100,ok');
    expect(lines[288]).toBe('2026-05-01T23:55:00+00:00,387,ok');
    expect(lines).toHaveLength(290); // header, 288 rows, and the empty string after the last CRLF
    expect(r.bytes.toString()).not.toContain('9999'); // the spike-flagged reading
  });
  it('a year spans every month; a re-stamped reading says clock_skew', async () => {
    const text = (await fetchBytes('/open/downloads/rg-nord/rain_mm/2026.csv')).bytes.toString();
    const rows = text.trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(288 + 11);
    expect(rows.at(-1)).toBe('2026-06-04T00:00:00+00:00,0.6,clock_skew');
  });
  it('has ETag and Last-Modified; a finished month is cached for a day; If-None-Match gets 304', async () => {
    const r = await fetchBytes('/open/downloads/pegel-lahn/level_cm/2026-05.csv');
    expect(r.headers.get('last-modified')).toBe(new Date(T0 + 287 * STEP).toUTCString());
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400');
    const again = await fetchBytes('/open/downloads/pegel-lahn/level_cm/2026-05.csv', { 'if-none-match': r.headers.get('etag')! });
    expect(again.status).toBe(304);
  });
  it('404 for a hidden station, an unpublished metric or a municipality without open data; 400 for a bad period', async () => {
    for (const p of ['/open/downloads/rg-privat/rain_mm/2026.csv', '/open/downloads/wz-01/level_cm/2026.csv', '/open/downloads/rg-nord/battery_v/2026.csv']) {
      expect((await fetchBytes(p)).status, p).toBe(404);
    }
    expect((await fetchBytes('/open/downloads/rg-nord/rain_mm/2026-13.csv')).status).toBe(400);
    expect((await fetchBytes('/open/downloads/wetzlar/2026-05.zip')).status).toBe(404);
  });
});

describe('the month as a ZIP', () => {
  it('holds one CSV per public station and metric plus a LIESMICH.txt with licence and publisher', async () => {
    const r = await fetchBytes('/open/downloads/giessen/2026-05.zip');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/zip');
    const files = unzip(r.bytes);
    expect([...files.keys()].sort()).toEqual(['LIESMICH.txt', 'pegel-lahn_level_cm_2026-05.csv', 'rg-nord_rain_mm_2026-05.csv']);
    expect(files.get('rg-nord_rain_mm_2026-05.csv')!.split('\r\n')).toHaveLength(290); // May only
    expect(files.get('LIESMICH.txt')).toMatch(/Universitätsstadt Gießen[\s\S]*Datenlizenz Deutschland – Namensnennung – Version 2\.0/);
    fs.writeFileSync(path.join(dir, 'may.zip'), r.bytes);
    const unzipTool = spawnSync('unzip', ['-t', path.join(dir, 'may.zip')], { encoding: 'utf8' });
    if (unzipTool.status !== null && !unzipTool.error) expect(unzipTool.stdout).toMatch(/No errors detected/);
  });
});

describe('DCAT-AP.de catalogue', () => {
  const DCAT = 'http://www.w3.org/ns/dcat#';
  const DCT = 'http://purl.org/dc/terms/';
  let quads: Array<{ subject: string; predicate: string; object: string }>;
  const objects = (s: string, p: string) => quads.filter((q) => q.subject === s && q.predicate === p).map((q) => q.object);
  const ofType = (t: string) => quads.filter((q) => q.predicate === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' && q.object === t).map((q) => q.subject);

  beforeAll(async () => {
    const r = await fetch(`${BASE}/dcat/catalog.jsonld`);
    expect(r.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    const doc = await r.json();
    const nquads = (await jsonld.toRDF(doc, { format: 'application/n-quads' })) as unknown as string;
    quads = new TurtleParser({ format: 'N-Quads' })
      .parse(nquads)
      .map((q) => ({ subject: q.subject.value, predicate: q.predicate.value, object: q.object.value }));
  });

  it('parses as JSON-LD, and the Turtle says exactly the same triples', async () => {
    expect(quads.length).toBeGreaterThan(50);
    const ttl = await (await fetch(`${BASE}/dcat/catalog.ttl`)).text();
    const fromTurtle = new TurtleParser({ format: 'Turtle' }).parse(ttl).map((q) => `${q.subject.value} ${q.predicate.value} ${q.object.value}`);
    expect(new Set(fromTurtle)).toEqual(new Set(quads.map((q) => `${q.subject} ${q.predicate} ${q.object}`)));
  });
  it('one dataset per municipality and metric with the DCAT-AP.de fields GovData requires', async () => {
    const [catalog] = ofType(`${DCAT}Catalog`);
    for (const p of [`${DCT}title`, `${DCT}description`, `${DCT}publisher`, `${DCAT}dataset`]) expect(objects(catalog, p), p).not.toHaveLength(0);
    const datasets = ofType(`${DCAT}Dataset`);
    expect(datasets.map((d) => d.split('#')[1]).sort()).toEqual(['dataset-giessen-level_cm', 'dataset-giessen-rain_mm']);
    const rain = datasets.find((d) => d.endsWith('rain_mm'))!;
    for (const p of [
      `${DCT}title`,
      `${DCT}description`,
      `${DCT}identifier`,
      `${DCAT}theme`,
      `${DCAT}keyword`,
      `${DCT}accrualPeriodicity`,
      `${DCAT}contactPoint`,
    ]) {
      expect(objects(rain, p), p).not.toHaveLength(0);
    }
    expect(objects(objects(rain, `${DCT}publisher`)[0], 'http://xmlns.com/foaf/0.1/name')).toEqual(['Universitätsstadt Gießen']);
    expect(objects(objects(rain, `${DCAT}contactPoint`)[0], 'http://www.w3.org/2006/vcard/ns#hasEmail')).toEqual(['mailto:opendata@giessen.de']);
    expect(objects(rain, `${DCT}spatial`)).toEqual(
      expect.arrayContaining([
        'http://dcat-ap.de/def/politicalGeocoding/regionalKey/065310005005',
        'http://dcat-ap.de/def/politicalGeocoding/municipalityKey/06531005',
      ]),
    );
    expect(objects(rain, 'http://dcat-ap.de/def/dcatde/politicalGeocodingLevelURI')).toEqual(['http://dcat-ap.de/def/politicalGeocodingLevel/municipality']);
    const period = objects(rain, `${DCT}temporal`)[0];
    expect(objects(period, `${DCAT}startDate`)).toEqual(['2026-05-01T00:00:00.000Z']);
    expect(objects(period, `${DCAT}endDate`)).toEqual(['2026-06-04T00:00:00.000Z']);
    const dists = objects(rain, `${DCAT}distribution`);
    expect(dists.length).toBe(3); // the SensorThings API, rg-nord's CSV, the month's ZIP
    for (const d of dists) {
      for (const p of [`${DCAT}accessURL`, `${DCT}format`, `${DCT}license`, 'http://dcat-ap.de/def/dcatde/licenseAttributionByText'])
        expect(objects(d, p), `${d} ${p}`).not.toHaveLength(0);
      expect(objects(d, `${DCT}license`)).toEqual(['http://dcat-ap.de/def/licenses/dl-by-de/2.0']);
    }
    const csv = dists.flatMap((d) => objects(d, `${DCAT}downloadURL`)).find((u) => u.endsWith('.csv'))!;
    expect((await fetch(csv)).status).toBe(200); // the links work
    const sta = dists.flatMap((d) => objects(d, `${DCAT}accessURL`)).find((u) => u.includes('/sta/v1.1/'))!;
    const streams = await (await fetch(sta)).json();
    expect(streams.value.map((d: any) => d['@iot.id'])).toEqual(['rg-nord~rain_mm']);
  });
  it('lists nothing of a hidden station or a municipality without open data', () => {
    const text = JSON.stringify(quads);
    expect(text).not.toMatch(/rg-privat|wz-01|wetzlar|Bauhof/);
  });
});

describe('public CAP feed', () => {
  beforeAll(async () => {
    const rule = (deviceIds: string[]) => ({
      name: 'Interne Regel Bauhof-Kanal',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { deviceIds },
      levels: [{ severity: 'severe', threshold: 400 }],
    });
    await o.s.ok('POST', '/api/v1/rules', { ...rule(['pegel-lahn']), org: 'giessen' });
    await o.s.api('POST', '/api/v1/devices', { id: 'pegel-intern', name: 'Pegel Klärwerk', model: 'generic', public: false }, o.tk.giessen);
    await o.s.ok('POST', '/api/v1/rules', { ...rule(['pegel-intern']), org: 'giessen' });
    const c = await o.s.mqttClient();
    await publish(c, 'devices/pegel-lahn/up', { readings: { level_cm: 450 } });
    await publish(c, 'devices/pegel-intern/up', { readings: { level_cm: 450 } });
    c.end(true);
    await waitFor(async () => (await o.s.ok('GET', '/api/v1/alarms')).items.length >= 2, 10_000, 'two alarms');
  });

  it('shows the public station’s warning, scope Public, without rule names or the operator API', async () => {
    const r = await fetch(`${BASE}/open/cap/giessen/alerts.atom`);
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const feed = await r.text();
    const links = [...feed.matchAll(/href="([^"]+\.xml)"/g)].map((m) => m[1]);
    expect(links).toHaveLength(1);
    expect(feed).not.toMatch(/Klärwerk|pegel-intern|Interne Regel/);
    const xml = await (await fetch(links[0])).text();
    expect(xml).toContain('<scope>Public</scope>');
    expect(xml).not.toMatch(/<restriction>|Interne Regel|ruleId|\/api\/v1\//);
    expect(xml).toContain(`<web>${BASE}/sta/v1.1/Things(&apos;pegel-lahn&apos;)</web>`);
    expect(xml).toMatch(/<valueName>ARS<\/valueName>\s*<value>065310005005<\/value>/);
    if (hasXmllint) {
      fs.writeFileSync(path.join(dir, 'public.xml'), xml);
      const v = spawnSync('xmllint', ['--noout', '--schema', XSD, path.join(dir, 'public.xml')], { encoding: 'utf8' });
      expect(v.status, v.stderr).toBe(0);
    }
  });
  it('404 for a hidden station’s alarm and for a municipality without open data', async () => {
    const hidden = (await o.s.ok('GET', '/api/v1/alarms')).items.find((a: any) => a.deviceId === 'pegel-intern');
    expect((await fetch(`${BASE}/open/cap/giessen/alerts/${hidden.id}.xml`)).status).toBe(404);
    expect((await fetch(`${BASE}/open/cap/wetzlar/alerts.atom`)).status).toBe(404);
  });
});
