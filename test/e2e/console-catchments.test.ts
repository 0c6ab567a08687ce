// The catchment form of the console over plain HTTP: an operator defines a catchment from a GeoJSON Feature or
// as a circle around stations, gets the forecast station catchment-<id>, and a broken GeoJSON is answered with
// a clear message and the form kept. In a real browser: the "DWD-Warnungen" section sets the municipality's
// warncell (the one PUT /api/v1/orgs/{org} sets), a bad id is shown at its field, a viewer cannot change it.
// [docs/dwd.md Catchments, Warnings]
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'ein-gutes-passwort';
let s: TestSystem;
let browser: Browser | undefined;

async function req(method: string, path: string, o: { cookie?: string; form?: URLSearchParams } = {}) {
  const r = await fetch(s.httpUrl + path, {
    method,
    redirect: 'manual',
    headers: { ...(o.cookie ? { cookie: o.cookie } : {}), ...(o.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: o.form?.toString(),
  });
  return { status: r.status, cookies: r.headers.getSetCookie(), text: await r.text() };
}
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const cookieValue = (cookies: string[], name: string) => cookies.map((c) => new RegExp(`^${name}=([^;]*)`).exec(c)?.[1]).find((v) => v !== undefined);

async function session(login: string): Promise<string> {
  const form = await req('GET', '/login');
  const pre = cookieValue(form.cookies, 'rw_login');
  const r = await req('POST', '/login', { cookie: `rw_login=${pre}`, form: new URLSearchParams({ _csrf: csrfOf(form.text), login, password: PW, next: '/' }) });
  expect(r.status).toBe(303);
  return `rw_session=${cookieValue(r.cookies, 'rw_session')}`;
}

describe('console: catchments (Einzugsgebiete)', () => {
  let cookie: string;
  beforeAll(async () => {
    s = await startSystem({ store: 'pglite', env: { MAP_TILES_URL: 'none' } });
    await s.ok('POST', '/api/v1/users', { login: 'olga', role: 'operator', password: PW });
    await s.ok('POST', '/api/v1/users', { login: 'vera', role: 'viewer', password: PW });
    await s.ok('POST', '/api/v1/devices', { id: 'pegel-wieseck', name: 'Pegel Wieseck', model: 'generic', location: { lat: 50.59, lon: 8.7 }, params: {} });
    cookie = await session('olga');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  const post = async (fields: Record<string, string | string[]>) => {
    const page = await req('GET', '/catchments', { cookie });
    const form = new URLSearchParams({ _csrf: csrfOf(page.text) });
    for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) form.append(k, x);
    return req('POST', '/catchments', { cookie, form });
  };

  it('the menu leads to the form; a GeoJSON Feature makes a catchment with its forecast station', async () => {
    const home = await req('GET', '/', { cookie });
    expect(home.text).toContain('href="/catchments"');
    const feature = {
      type: 'Feature',
      properties: { name: 'Lahn-Nord' },
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [8.6, 50.55],
            [8.75, 50.55],
            [8.75, 50.65],
            [8.6, 50.65],
            [8.6, 50.55],
          ],
        ],
      },
    };
    const r = await post({
      id: 'lahn-nord',
      name: 'Lahn-Nord',
      shape: 'polygon',
      geojson: JSON.stringify(feature),
      deviceIds: 'pegel-wieseck',
      bufferKm: '1',
      thresholdMm: '20',
    });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.text).toContain('catchment-lahn-nord');
    const c = await s.ok('GET', '/api/v1/catchments/lahn-nord');
    expect(c).toMatchObject({ name: 'Lahn-Nord', geometry: { type: 'Polygon' }, deviceIds: ['pegel-wieseck'], bufferKm: 1, thresholdMm: 20 });
    expect((await s.ok('GET', '/api/v1/devices/catchment-lahn-nord')).tags).toMatchObject({ source: 'dwd-nowcast', catchment: 'lahn-nord' });
    // its station now belongs to it: the tag a combined rule's gauge condition looks for
    expect((await s.ok('GET', '/api/v1/devices/pegel-wieseck')).tags).toMatchObject({ catchment: 'lahn-nord' });
  });

  it('a circle around a station; broken GeoJSON is refused with the reason and the form kept', async () => {
    const r = await post({ id: 'wieseck', name: 'Wieseck', shape: 'circle', radiusM: '2500', deviceIds: 'pegel-wieseck', bufferKm: '0.5', thresholdMm: '15' });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect((await s.ok('GET', '/api/v1/catchments/wieseck')).geometry.coordinates[0].length).toBe(65);
    expect((await s.ok('GET', '/api/v1/devices/pegel-wieseck')).tags.catchment, 'a station keeps the catchment it belongs to').toBe('lahn-nord');

    const bad = await post({
      id: 'kaputt',
      name: 'Kaputt',
      shape: 'polygon',
      geojson: '{"type":"Point","coordinates":[8.6,50.5]}',
      bufferKm: '1',
      thresholdMm: '20',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/GeoJSON: .*Polygon/);
    expect(bad.text).toContain('value="kaputt"');
    expect((await s.api('GET', '/api/v1/catchments/kaputt')).status).toBe(404);
  });

  it('the API: bufferKm, PATCH changes only the fields given, an unknown field is a 400, DELETE', async () => {
    const square = {
      type: 'Polygon',
      coordinates: [
        [
          [8.6, 50.55],
          [8.75, 50.55],
          [8.75, 50.65],
          [8.6, 50.65],
          [8.6, 50.55],
        ],
      ],
    };
    const c = await s.ok('POST', '/api/v1/catchments', { id: 'ohm', name: 'Ohm', geometry: square, bufferKm: 2.5 });
    expect(c).toMatchObject({ id: 'ohm', bufferKm: 2.5, thresholdMm: 20, nowcastDeviceId: 'catchment-ohm' });
    expect((await s.ok('GET', '/api/v1/devices/catchment-ohm')).tags).toMatchObject({ source: 'dwd-nowcast', catchment: 'ohm' });
    const old = await s.api('POST', '/api/v1/catchments', { id: 'ohm2', name: 'Ohm', geometry: square, bufferM: 1000 });
    expect(old.status).toBe(400);
    expect(JSON.stringify(old.body)).toMatch(/bufferM/);

    const p = await s.ok('PATCH', '/api/v1/catchments/ohm', { name: 'Ohm-Mitte', bufferKm: 0.5 });
    expect(p).toMatchObject({ name: 'Ohm-Mitte', bufferKm: 0.5, thresholdMm: 20, geometry: square });
    expect(await s.ok('GET', '/api/v1/catchments/ohm')).toMatchObject({ name: 'Ohm-Mitte', bufferKm: 0.5 });
    expect((await s.api('PATCH', '/api/v1/catchments/ohm', { bufferM: 500 })).status).toBe(400);
    expect((await s.api('PATCH', '/api/v1/catchments/gibtsnicht', { name: 'x' })).status).toBe(404);
    expect((await s.api('DELETE', '/api/v1/catchments/ohm')).status).toBe(204);
    expect((await s.api('GET', '/api/v1/catchments/ohm')).status).toBe(404);
  });

  it('a municipality gets its DWD warncell through PUT /api/v1/orgs/{org}', async () => {
    expect(await s.ok('PUT', '/api/v1/orgs/default', { warncellId: '806631009' })).toEqual({ org: 'default', warncellId: '806631009' });
    expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: '806631009' });
    expect((await s.api('PUT', '/api/v1/orgs/default', { warncellId: '06631009' })).status).toBe(400);
    expect(await s.ok('PUT', '/api/v1/orgs/default', { warncellId: null })).toEqual({ org: 'default', warncellId: null });
  });

  it('the page speaks English with ?lang=en, German by default (words in services/web/i18n/catchments.ts)', async () => {
    const en = await req('GET', '/catchments?lang=en', { cookie });
    expect(en.text).toContain('New catchment');
    expect(en.text).toContain('data-too-big="GeoJSON &gt; 60 KB');
    expect(en.text).not.toContain('Neues Einzugsgebiet');
    const de = await req('GET', '/catchments?lang=de', { cookie });
    expect(de.text).toContain('Neues Einzugsgebiet');
    expect(de.text).toContain('data-too-big="GeoJSON über 60 KB');
  });

  const pageFor = async (login: string) => {
    browser ??= await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 }, locale: 'de-DE' });
    const page = await newPage(ctx);
    page.setDefaultTimeout(15_000);
    await logIn(page, s.httpUrl, login, PW);
    return page;
  };

  it.skipIf(!HAVE_CHROMIUM)(
    'in a browser, "DWD-Warnungen": an operator sets the warncell; the API shows it; a bad id is shown at the field; a viewer cannot change it',
    async () => {
      const olga = await pageFor('olga');
      await olga.goto(`${s.httpUrl}/catchments`);
      await expect(olga.getByRole('heading', { name: 'DWD-Warnungen' }).isVisible()).resolves.toBe(true);
      // words for a Bauhof: what a warncell id is and where to find it; no setting names, no "default"
      const input = olga.getByLabel('Warnzellen-ID des DWD für Ihre Gemeinde');
      expect(await olga.locator('#wc-warncellId-help').textContent()).toContain(
        'eine 8 und dann der Gemeindeschlüssel (AGS), z. B. 806631009 für die Stadt Fulda',
      );
      const list = olga.getByRole('link', { name: /Warnzellen-Liste des DWD/ });
      expect(await list.getAttribute('href')).toBe('https://www.dwd.de/DE/leistungen/opendata/help/warnungen/cap_warncellids_csv.csv');
      const section = (await olga.locator('.warncell').textContent()) ?? '';
      for (const jargon of ['DWD_WARNCELLS', 'CAP_ARS', 'default', 'dwd_warning']) expect(section, `no "${jargon}" on the page`).not.toContain(jargon);
      await input.fill('806631009');
      await Promise.all([olga.waitForLoadState('load'), olga.getByRole('button', { name: 'Warnzelle speichern' }).click()]);
      await olga.getByText('Warnzelle 806631009 für Ihre Gemeinde gespeichert.').waitFor();
      expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: '806631009' });
      expect(await olga.getByLabel(/Warnzellen-ID des DWD/).inputValue(), 'the page shows the warncell in force').toBe('806631009');
      const log = await s.ok('GET', '/api/v1/audit?entity=org');
      expect(
        log.items.find((e: { entityId: string; actor: string }) => e.entityId === 'default' && e.actor === 'web:olga'),
        'audited',
      ).toBeTruthy();

      // a bad id: the error at the field, the value kept, nothing changed
      await olga.getByLabel(/Warnzellen-ID des DWD/).fill('06631009');
      await olga.getByRole('button', { name: 'Warnzelle speichern' }).click();
      const err = olga.locator('#wc-warncellId-err');
      await err.waitFor();
      expect(await err.textContent()).toContain('genau 9 Ziffern');
      const field = olga.getByLabel(/Warnzellen-ID des DWD/);
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(await field.getAttribute('aria-describedby')).toContain('wc-warncellId-err');
      expect(await field.inputValue()).toBe('06631009');
      expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: '806631009' });
      expect(olga.problems).toEqual([]);

      // a viewer: no form, and a forged POST is refused
      const vera = await pageFor('vera');
      const r = await vera.goto(`${s.httpUrl}/catchments`);
      expect(r?.status()).toBe(403);
      expect(await vera.getByLabel(/Warnzellen-ID des DWD/).count()).toBe(0);
      await vera.goto(`${s.httpUrl}/`);
      const csrf = await vera.locator('input[name="_csrf"]').first().getAttribute('value');
      expect(csrf).toBeTruthy();
      const post = await vera.request.post(`${s.httpUrl}/catchments/warncell`, { form: { _csrf: csrf ?? '', warncellId: '806531005' }, maxRedirects: 0 });
      expect(post.status()).toBe(403);
      expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: '806631009' });

      // the municipality by its name (the publisher of its open data), also on a phone without sideways scrolling
      await s.ok('PUT', '/api/v1/orgs/default/open-data', { enabled: false, publisher: 'Stadt Wetzlar' });
      await olga.setViewportSize({ width: 390, height: 844 });
      await olga.goto(`${s.httpUrl}/catchments`);
      expect(await olga.getByLabel('Warnzellen-ID des DWD für Stadt Wetzlar').inputValue()).toBe('806631009');
      expect(await olga.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling at 390 px').toBeLessThanOrEqual(390);

      // empty clears it again, as null does through the API
      await olga.getByLabel(/Warnzellen-ID des DWD/).fill('');
      await olga.getByRole('button', { name: 'Warnzelle speichern' }).click();
      await olga.getByText('Warnzelle für Stadt Wetzlar entfernt.').waitFor();
      expect(await s.ok('GET', '/api/v1/orgs/default')).toEqual({ org: 'default', warncellId: null });
    },
    120_000,
  );
});
