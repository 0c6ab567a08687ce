// The operator's rule workspace in a real browser: create a DWD rule from the preset, preview it over a stored
// Euler II storm and see the alarms it would raise, save it, and the next storm raises them; field errors
// next to the field; the shadow toggle; other municipalities and other roles stay out. [issue 14]
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { designStorm } from '../../firmware-sim/scenarios/euler2.ts';
import { BUILTIN_CELLS } from '../../firmware-sim/scenarios/kostra.ts';
import { axeViolations, HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const PW = 'regen-regeln-2026';
const MIN = 60_000;
// KOSTRA T=10 Euler II, 5-min blocks in mm, from the firmware simulator's design storm (one source of truth)
// [docs/reference/domain.md S1]: 21.4 mm after 20 min (Stufe 2), 28.8 mm in the hour (Stufe 3: > 25 mm in 1 h)
const EULER2 = designStorm(BUILTIN_CELLS['117111'], 10, 60).map((v) => Math.round(v * 1000) / 1000);

let s: TestSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function userPage(login: string, locale = 'de-DE'): Promise<Page & { problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale });
  contexts.push(ctx);
  const page = await newPage(ctx);
  page.setDefaultTimeout(10_000);
  await logIn(page, s.httpUrl, login, PW);
  return page;
}

/** The storm as one native uplink of 5-min readings starting at `start`, then two dry hours. */
async function storm(deviceId: string, start: number) {
  const readings = [...EULER2, ...Array(24).fill(0)].map((v, k) => ({ time: new Date(start + (k + 1) * 5 * MIN).toISOString(), readings: { rain_mm: v } }));
  const c = await s.mqttClient();
  await publish(c, `devices/${deviceId}/up`, readings);
  c.end(true);
}

describe.skipIf(!HAVE_CHROMIUM)('rules in the web console', () => {
  let lea: Page & { problems: string[] };
  const stormAt = Math.floor((Date.now() - 3 * 86_400_000) / (5 * MIN)) * 5 * MIN;

  beforeAll(async () => {
    s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none' } });
    for (const [login, role, org] of [
      ['leitstelle', 'operator', 'giessen'],
      ['feuerwehr', 'responder', 'giessen'],
      ['zuschauer', 'viewer', 'giessen'],
      ['wetzlar', 'operator', 'wetzlar'],
    ] as const) {
      await s.ok('POST', '/api/v1/users', { login, role, org, name: login, password: PW });
    }
    for (const [id, name, org, tags] of [
      ['gi-nord', 'Regenschreiber Gießen-Nord', 'giessen', { gebiet: 'wieseck' }],
      ['gi-sued', 'Regenschreiber Gießen-Süd', 'giessen', { gebiet: 'lahn' }],
      ['wz-rain', 'Regenschreiber Wetzlar', 'wetzlar', { gebiet: 'wieseck' }],
    ] as const) {
      await s.ok('POST', '/api/v1/devices', { id, name, model: 'generic', org, tags, location: { lat: 50.6, lon: 8.68 } });
    }
    await s.ok('POST', '/api/v1/rules', { name: 'Wetzlar Starkregen', preset: 'dwd-starkregen', scope: { deviceIds: ['wz-rain'] }, org: 'wetzlar' });
    // the stored storm, three days ago, before any rule of Gießen watched it
    await storm('gi-nord', stormAt);
    await waitFor(async () => {
      const r = await s.ok<{ points: unknown[] }>('GET', `/api/v1/devices/gi-nord/readings?metric=rain_mm&from=${new Date(stormAt).toISOString()}`);
      return r.points.length >= EULER2.length;
    });
    browser = await launchBrowser();
    lea = await userPage('leitstelle');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  it('an operator starts a rule from the DWD preset: every field explained, the matched stations counted live', async () => {
    await lea.goto(`${s.httpUrl}/rules`);
    expect(await lea.locator('main').textContent()).toMatch(/Noch keine Regeln/);
    expect(await axeViolations(lea)).toEqual([]);
    await lea.getByRole('link', { name: /Aus Vorlage: DWD Starkregen/ }).click();
    expect(new URL(lea.url()).pathname).toBe('/rules/new');
    expect(await lea.locator('form.rule-form').textContent()).toMatch(/Dauer bis Entwarnung[\s\S]*kurze Pause im Gewitter[\s\S]*Hysterese/);
    // only Gießen's stations are offered
    expect(await lea.locator('.station-picks').textContent()).not.toMatch(/Wetzlar/);
    await expect.poll(() => lea.locator('#scope-count').textContent()).toBe('passt auf 0 Station(en)');
    await lea.getByLabel(/Stationen mit Tags/).check();
    await lea.getByLabel(/Tags \(je Zeile/).fill('gebiet=wieseck');
    await expect.poll(() => lea.locator('#scope-count').textContent()).toBe('passt auf 1 Station(en)');
    await lea.getByLabel(/Ausgewählte Stationen/).check();
    await lea.getByLabel(/Regenschreiber Gießen-Nord/).check();
    await lea.getByLabel(/Regenschreiber Gießen-Süd/).check();
    await expect.poll(() => lea.locator('#scope-count').textContent()).toBe('passt auf 2 Station(en)');
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('a bad duration is shown next to its field, with the schema’s words', async () => {
    await lea.getByLabel(/Dauer bis Entwarnung/).fill('eine Weile');
    await lea.getByRole('button', { name: 'Vorschau berechnen' }).click();
    const err = lea.locator('#f-clear-for-err');
    expect(await err.textContent()).toMatch(/bad duration "eine Weile"/);
    expect(await lea.getByLabel(/Dauer bis Entwarnung/).getAttribute('aria-invalid')).toBe('true');
    // what was typed is kept
    expect(await lea.getByLabel(/Regenschreiber Gießen-Süd/).isChecked()).toBe(true);
    expect(await axeViolations(lea)).toEqual([]);
    await lea.getByLabel(/Dauer bis Entwarnung/).fill('15m');
  });

  it('a custom rule offers the intensity cap, explained, and a wrong one is shown next to it', async () => {
    const page = await userPage('leitstelle');
    await page.goto(`${s.httpUrl}/rules/new`);
    const cap = page.getByLabel(/Intensitätsgrenze/);
    expect(await page.locator('form.rule-form').textContent()).toMatch(/Intensitätsgrenze[\s\S]*zählt nur mit dieser Rate[\s\S]*Wolkenbruch/);
    await page.getByLabel('Name', { exact: true }).fill('Dauerregen Wieseck');
    await page.getByLabel(/Regenschreiber Gießen-Süd/).check();
    await cap.fill('viel');
    await page.getByRole('button', { name: 'Vorschau berechnen' }).click();
    expect(await page.locator('#f-intensityCap-err').textContent()).toMatch(/finite number/);
    expect(await page.getByLabel(/Intensitätsgrenze/).getAttribute('aria-invalid')).toBe('true');
    expect(await axeViolations(page)).toEqual([]);
    // a cap on a threshold rule is refused with the schema's reason, at the field
    await page.getByLabel('Art', { exact: true }).selectOption('threshold');
    await page.getByLabel(/Intensitätsgrenze/).fill('10');
    await page.getByRole('button', { name: 'Vorschau berechnen' }).click();
    expect(await page.locator('#f-intensityCap-err').textContent()).toMatch(/only applies to kind accumulation/);
    // saved with a cap, the rule keeps it
    await page.getByLabel('Art', { exact: true }).selectOption('accumulation');
    await page.getByLabel(/Intensitätsgrenze/).fill('10');
    await Promise.all([page.waitForURL(/\/rules\?ok=created/), page.getByRole('button', { name: 'Regel anlegen' }).click()]);
    const rules = await s.ok<{ items: { name: string; intensityCap?: number; id: string }[] }>('GET', '/api/v1/rules');
    const made = rules.items.find((r) => r.name === 'Dauerregen Wieseck');
    expect(made?.intensityCap).toBe(10);
    await s.ok('DELETE', `/api/v1/rules/${made?.id}`);
  });

  it('the preview over the stored Euler II storm draws the 1 h sum and shows the alarm the rule would raise', async () => {
    await lea.getByLabel('Zeitraum der Vorschau').selectOption('7d');
    await lea.getByRole('button', { name: 'Vorschau berechnen' }).click();
    const rows = lea.locator('#preview table.preview-alarms tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-device')).toBe('gi-nord');
    expect(await rows.first().getAttribute('data-severity')).toBe('severe');
    expect(await rows.first().textContent()).toMatch(/Gießen-Nord[\s\S]*hoch/);
    expect(await lea.locator('#preview .summary').textContent()).toMatch(/^1 Alarm\(e\) an 1 Station\(en\)/);
    await expect.poll(() => lea.locator('[data-chart="new-gi-nord"]').getAttribute('data-drawn')).toBe('1');
    expect(await lea.locator('[data-chart="new-gi-nord"] canvas').count()).toBe(1);
    expect(await lea.locator('#preview').textContent()).toMatch(/Summe 1h/);
    expect(await axeViolations(lea)).toEqual([]);
    expect(lea.problems).toEqual([]);
  });

  let ruleId: string;
  it('saving it creates the rule, and the next storm raises the alarm the preview showed', async () => {
    await Promise.all([lea.waitForURL(/\/rules\?ok=created/), lea.getByRole('button', { name: 'Regel anlegen' }).click()]);
    expect(await lea.locator('.msg-ok').textContent()).toBe('Regel angelegt.');
    const row = lea.locator('table.rules tr', { hasText: 'DWD Starkregen' });
    ruleId = (await row.getAttribute('data-rule')) as string;
    expect(await row.textContent()).toMatch(/2 Stationen[\s\S]*0[\s\S]*aktiv/);
    const rule = await s.ok('GET', `/api/v1/rules/${ruleId}`);
    expect(rule).toMatchObject({ preset: 'dwd-starkregen', org: 'giessen', scope: { deviceIds: ['gi-nord', 'gi-sued'] }, clear: { for: '15m' } });
    // the next storm, ending now
    await storm('gi-nord', Math.floor(Date.now() / MIN) * MIN - 36 * 5 * MIN);
    const alarms = await waitFor(async () => {
      const r = await s.ok<{ items: { severity: string; deviceId: string; state: string }[] }>('GET', `/api/v1/alarms?state=all&ruleId=${ruleId}`);
      return r.items.length > 0 && r.items;
    });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ deviceId: 'gi-nord' });
    await lea.goto(`${s.httpUrl}/rules/${ruleId}`);
    expect(await lea.locator('.rule-page').textContent()).toMatch(/Alarme dieser Regel[\s\S]*Gießen-Nord/);
  });

  it('previewing a change shows the current version side by side; the shadow toggle takes the rule out of notifying', async () => {
    await lea.goto(`${s.httpUrl}/rules/${ruleId}`);
    await lea.getByLabel(/Regenschreiber Gießen-Nord/).uncheck();
    await lea.getByLabel('Zeitraum der Vorschau').selectOption('7d');
    await lea.getByRole('button', { name: 'Vorschau berechnen' }).click();
    await lea.locator('#preview').waitFor();
    // the 6 h level still holds when the gauge falls silent after the first storm: one alarm over both storms
    expect(await lea.locator('#preview [data-version="current"] .summary').textContent()).toMatch(/^1 Alarm\(e\) an 1 Station\(en\)/);
    expect(await lea.locator('#preview [data-version="new"] .summary').textContent()).toMatch(/^0 Alarm\(e\)/);
    await expect.poll(() => lea.locator('[data-chart="cur-gi-nord"]').getAttribute('data-drawn')).toBe('1');
    expect(await axeViolations(lea)).toEqual([]);
    await lea.goto(`${s.httpUrl}/rules`);
    await lea.locator(`tr[data-rule="${ruleId}"]`).getByRole('button', { name: 'In Schattenbetrieb' }).click();
    expect(await lea.locator('.msg-ok').textContent()).toMatch(/Schattenbetrieb/);
    expect((await s.ok('GET', `/api/v1/rules/${ruleId}`)).mode).toBe('shadow');
    await lea.goto(`${s.httpUrl}/rules/${ruleId}`);
    expect(await lea.locator('.compare').textContent()).toMatch(/Schatten gegen Live/);
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('another municipality’s rule is not found, and responders and viewers cannot open the rules pages', async () => {
    const wz = (await s.ok<{ items: { id: string; org: string }[] }>('GET', '/api/v1/rules')).items.find((r) => r.org === 'wetzlar')!;
    const res = await lea.goto(`${s.httpUrl}/rules/${wz.id}`);
    expect(res?.status()).toBe(404);
    const post = await lea.request.post(`${s.httpUrl}/rules/${wz.id}/mode`, { form: { mode: 'shadow' } });
    expect(post.status()).toBe(403); // no CSRF token: refused before anything else
    for (const login of ['feuerwehr', 'zuschauer']) {
      const p = await userPage(login);
      expect(await p.locator('nav').textContent()).not.toMatch(/Regeln/);
      for (const path of ['/rules', '/rules/new', `/rules/${ruleId}`]) expect((await p.goto(`${s.httpUrl}${path}`))?.status()).toBe(403);
    }
  });
});
