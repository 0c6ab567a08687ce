// The open-data switch in a real browser: a municipality's admin finds "Offene Daten" in the menu, switches
// publication on with publisher and contact, and a station set to "nie" disappears from the anonymous
// SensorThings API; a bad contact is shown at its field; an operator and another municipality stay out. [issue 15]
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'offene-daten-2026';
let s: TestSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function userPage(login: string): Promise<Page & { problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 }, locale: 'de-DE' });
  contexts.push(ctx);
  const page = await newPage(ctx);
  page.setDefaultTimeout(10_000);
  await logIn(page, s.httpUrl, login, PW);
  return page;
}
const things = async () => {
  const r = await fetch(`${s.httpUrl}/sta/v1.1/Things`);
  return ((await r.json()) as { value: Array<{ '@iot.id': string }> }).value.map((x) => x['@iot.id']).sort();
};

describe.skipIf(!HAVE_CHROMIUM)('open data in the web console', () => {
  let admin: Page & { problems: string[] };

  beforeAll(async () => {
    s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none' } });
    for (const [login, role, org] of [
      ['od-admin', 'admin', 'giessen'],
      ['od-operator', 'operator', 'giessen'],
    ] as const) {
      await s.ok('POST', '/api/v1/users', { login, role, org, name: login, password: PW });
    }
    for (const [id, name, org] of [
      ['gi-nord', 'Regenschreiber Gießen-Nord', 'giessen'],
      ['gi-bauhof', 'Regenschreiber Bauhof', 'giessen'],
      ['wz-rain', 'Regenschreiber Wetzlar', 'wetzlar'],
    ] as const) {
      await s.ok('POST', '/api/v1/devices', { id, name, model: 'generic', org, location: { lat: 50.6, lon: 8.68 } });
    }
    browser = await launchBrowser();
    admin = await userPage('od-admin');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  it('the admin switches open data on from the menu; the stations appear in the anonymous SensorThings API', async () => {
    expect(await things()).toEqual([]);
    await admin.goto(`${s.httpUrl}/`);
    await admin.getByRole('link', { name: 'Offene Daten' }).click();
    await admin.waitForURL(/\/admin\/open-data$/);
    expect(await admin.locator('.od-state').textContent()).toMatch(/ausgeschaltet/);
    // only this municipality's stations are listed
    expect(await admin.locator('table.open-data-devices tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual([
      'gi-bauhof',
      'gi-nord',
    ]);
    expect(await axeViolations(admin)).toEqual([]);

    await admin.getByLabel('Offene Daten veröffentlichen').check();
    await admin.getByLabel('Herausgeber (wie GovData ihn zeigt)').fill('Universitätsstadt Gießen');
    await admin.getByLabel('Kontakt (E-Mail oder Webseite)').fill('opendata@giessen.de');
    await admin.getByRole('button', { name: 'Speichern', exact: true }).click();
    expect(await admin.locator('.msg-ok').textContent()).toBe('Gespeichert.');
    expect(await admin.locator('.od-state').textContent()).toMatch(/eingeschaltet/);
    const api = await s.ok('GET', '/api/v1/orgs/giessen/open-data');
    expect(api).toMatchObject({ enabled: true, license: 'dl-de/by-2-0', publisher: 'Universitätsstadt Gießen', contact: 'opendata@giessen.de' });
    expect(await things()).toEqual(['gi-bauhof', 'gi-nord']);
  });

  it('a station set to "nie" disappears from every open endpoint; "wie die Kommune" brings it back', async () => {
    await admin.goto(`${s.httpUrl}/admin/open-data`);
    await admin.getByLabel('Veröffentlichen: Regenschreiber Bauhof').selectOption('no');
    await admin.getByRole('button', { name: 'Auswahl speichern' }).click();
    expect(await admin.locator('.msg-ok').textContent()).toBe('Gespeichert.');
    expect(await admin.locator('tr[data-device="gi-bauhof"] td.visible').textContent()).toBe('nein');
    expect(await things()).toEqual(['gi-nord']);
    expect((await fetch(`${s.httpUrl}/sta/v1.1/Things('gi-bauhof')`)).status).toBe(404);
    expect((await s.ok('GET', '/api/v1/devices/gi-bauhof')).public).toBe(false);

    await admin.getByLabel('Veröffentlichen: Regenschreiber Bauhof').selectOption('follow');
    await admin.getByRole('button', { name: 'Auswahl speichern' }).click();
    expect(await admin.locator('tr[data-device="gi-bauhof"] td.visible').textContent()).toBe('ja');
    expect(await things()).toEqual(['gi-bauhof', 'gi-nord']);
  });

  it('a contact that is neither e-mail nor URL is shown at its field, and nothing is saved', async () => {
    await admin.goto(`${s.httpUrl}/admin/open-data`);
    await admin.getByLabel('Kontakt (E-Mail oder Webseite)').fill('beim Bauhof anrufen');
    await admin.getByRole('button', { name: 'Speichern', exact: true }).click();
    const contact = admin.getByLabel('Kontakt (E-Mail oder Webseite)');
    expect(await contact.getAttribute('aria-invalid')).toBe('true');
    expect(await admin.locator('.field-error').textContent()).toMatch(/e-mail address or an http\(s\) URL/);
    expect((await s.ok('GET', '/api/v1/orgs/giessen/open-data')).contact).toBe('opendata@giessen.de');
  });

  it('an operator has no menu entry and no access; an admin cannot change another municipality', async () => {
    const op = await userPage('od-operator');
    await op.goto(`${s.httpUrl}/`);
    expect(await op.getByRole('link', { name: 'Offene Daten' }).count()).toBe(0);
    const r = await op.goto(`${s.httpUrl}/admin/open-data`);
    expect(r?.status()).toBe(403);
    const other = await admin.goto(`${s.httpUrl}/admin/open-data?org=wetzlar`);
    expect(other?.status()).toBe(403);
    expect((await s.ok('GET', '/api/v1/orgs/wetzlar/open-data')).enabled).toBe(false);
  });
});
