// Creating and editing routes in a real browser: the form is the route schema's (errors next to the field, with
// the schema's words), targets of every type, what the route matches counted, a webhook secret that stays
// write-only, the same egress check as the API; other municipalities and roles stay out. [issue 14]
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiver } from '../helpers/alarms.ts';
import { axeViolations, HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'regen-wege-2026';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let s: TestSystem;
let browser: Browser;
let hook: Awaited<ReturnType<typeof receiver>>;
const contexts: BrowserContext[] = [];

async function userPage(login: string): Promise<Page & { problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 }, locale: 'de-DE' });
  contexts.push(ctx);
  const page = await newPage(ctx);
  page.setDefaultTimeout(10_000);
  await logIn(page, s.httpUrl, login, PW);
  return page;
}

type RouteOut = { id: string; name: string; org: string; targets: Record<string, unknown>[]; match: Record<string, unknown>; repeatEvery?: string };

describe.skipIf(!HAVE_CHROMIUM)('creating and editing routes in the web console', () => {
  let lea: Page & { problems: string[] };

  beforeAll(async () => {
    // loopback webhooks are allowed for municipalities here, so the test receiver can be a target
    s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none', WEBHOOK_ALLOW_NETS: '127.0.0.0/8' } });
    for (const [login, role, org] of [
      ['leitstelle', 'operator', 'giessen'],
      ['feuerwehr', 'responder', 'giessen'],
      ['wetzlar', 'operator', 'wetzlar'],
    ] as const) {
      await s.ok('POST', '/api/v1/users', { login, role, org, name: login, password: PW });
    }
    for (const [id, name, org, tags] of [
      ['gi-nord', 'Regenschreiber Gießen-Nord', 'giessen', { gebiet: 'wieseck' }],
      ['gi-sued', 'Regenschreiber Gießen-Süd', 'giessen', { gebiet: 'lahn' }],
      ['gi-west', 'Regenschreiber Gießen-West', 'giessen', { gebiet: 'wieseck' }],
      ['wz-rain', 'Regenschreiber Wetzlar', 'wetzlar', { gebiet: 'wieseck' }],
    ] as const) {
      await s.ok('POST', '/api/v1/devices', { id, name, model: 'generic', org, tags, location: { lat: 50.6, lon: 8.68 } });
    }
    await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { tags: { gebiet: 'wieseck' } }, org: 'giessen' });
    await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['wz-rain'] }, org: 'wetzlar' });
    hook = await receiver();
    browser = await launchBrowser();
    lea = await userPage('leitstelle');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
    await hook?.close();
  });

  const row = (k: number) => lea.locator('fieldset.targets-edit').first().locator(`tr[data-row="${k}"]`);

  it('an operator creates a route: a wrong number and a missing secret are shown next to their fields', async () => {
    await lea.goto(`${s.httpUrl}/routes`);
    await lea.getByRole('link', { name: 'Neue Weiterleitung' }).click();
    expect(new URL(lea.url()).pathname).toBe('/routes/new');
    // only Gießen's stations and rules are offered; every target type of the schema is there
    expect(await lea.locator('form.route-form').textContent()).not.toMatch(/Wetzlar/);
    expect(await row(0).locator('select option').allTextContents()).toEqual(['Webhook', 'SMS', 'E-Mail', 'Anruf']);
    expect(await axeViolations(lea)).toEqual([]);
    await lea.getByLabel('Name', { exact: true }).fill('Leitstelle Wieseck');
    await lea.getByLabel(/Nur Stationen mit Tags/).fill('gebiet=wieseck');
    await lea.getByLabel('Ab Stufe').selectOption('severe');
    await row(0).locator('select').selectOption('sms');
    await row(0)
      .getByLabel(/Nummer \/ Adresse/)
      .fill('0151 1234');
    await row(0)
      .getByLabel(/Name der Person/)
      .fill('Zugführer Meier');
    await row(1).locator('select').selectOption('webhook');
    await row(1)
      .getByLabel(/Nummer \/ Adresse/)
      .fill(`${hook.url}/leitstelle`);
    await lea.getByLabel('Erinnerung alle').fill('30m');
    // a field the route schema has beyond the ones this page lays out (storm grouping) is there, with its error
    await lea.getByLabel(/Gruppieren nach/).fill('regen');
    await lea.getByRole('button', { name: 'Weiterleitung anlegen' }).click();
    expect(await lea.locator('#f-groupBy-err').textContent()).toMatch(/must be "rule", "org"/);
    expect(await lea.locator('#f-targets-0-to-err').textContent()).toMatch(/E\.164 number like \+4915112345678/);
    expect(
      await row(0)
        .getByLabel(/Nummer \/ Adresse/)
        .getAttribute('aria-invalid'),
    ).toBe('true');
    expect(await lea.locator('#f-targets-1-secret-err').textContent()).toMatch(/whsec_/);
    // what was typed is kept
    expect(await lea.getByLabel('Erinnerung alle').inputValue()).toBe('30m');
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('fixed, it saves with SMS, e-mail and webhook targets and shows what it matches', async () => {
    await row(0)
      .getByLabel(/Nummer \/ Adresse/)
      .fill('+4915112345678');
    await row(1)
      .getByLabel(/Webhook-Geheimnis/)
      .fill(SECRET);
    await row(2).locator('select').selectOption('email');
    await row(2)
      .getByLabel(/Nummer \/ Adresse/)
      .fill('bauhof@giessen.example');
    await lea.getByLabel(/Gruppieren nach/).fill('tag:gebiet');
    await Promise.all([lea.waitForURL(/\/routes\?ok=created/), lea.getByRole('button', { name: 'Weiterleitung anlegen' }).click()]);
    expect(await lea.locator('.msg-ok').textContent()).toBe('Weiterleitung angelegt.');
    const card = lea.locator('article.route-card', { hasText: 'Leitstelle Wieseck' });
    expect(await card.locator('.route-matches').textContent()).toMatch(/passt auf 2 Station\(en\), 1 Regel\(n\)[\s\S]*ab Stufe hoch/);
    expect(await card.locator('tbody tr').count()).toBe(3);
    expect(await axeViolations(lea)).toEqual([]);
    const made = (await s.ok<{ items: RouteOut[] }>('GET', '/api/v1/routes')).items.find((r) => r.name === 'Leitstelle Wieseck');
    expect(made).toMatchObject({
      org: 'giessen',
      match: { minSeverity: 'severe', tags: { gebiet: 'wieseck' } },
      repeatEvery: '30m',
      groupBy: ['tag:gebiet'],
      targets: [
        { type: 'sms', to: '+4915112345678', name: 'Zugführer Meier' },
        { type: 'webhook', url: `${hook.url}/leitstelle` },
        { type: 'email', to: 'bauhof@giessen.example' },
      ],
    });
    // the test button reaches the webhook with the secret that was typed once
    await card.locator('tbody tr').nth(1).getByRole('button', { name: 'Testnachricht senden' }).click();
    expect(await lea.locator('.msg-ok').textContent()).toMatch(/zugestellt \(200\)/);
    expect(hook.bodies().at(-1)?.type).toBe('regenwacht.test');
  });

  it('editing keeps the webhook secret (never shown) and changes what the route matches', async () => {
    const card = lea.locator('article.route-card', { hasText: 'Leitstelle Wieseck' });
    await card.getByRole('link', { name: /Leitstelle Wieseck/ }).click();
    expect(new URL(lea.url()).pathname).toMatch(/^\/routes\/.+\/edit$/);
    expect(await lea.content()).not.toContain(SECRET);
    expect(
      await row(0)
        .getByLabel(/Nummer \/ Adresse/)
        .inputValue(),
    ).toBe('+4915112345678');
    await lea.getByLabel(/Nur Stationen mit Tags/).fill('');
    await lea.getByLabel(/Regenschreiber Gießen-Süd/).check();
    await lea.getByLabel('Erinnerung alle').fill('ein Weilchen');
    await lea.getByRole('button', { name: 'Speichern' }).click();
    expect(await lea.locator('#f-repeatEvery-err').textContent()).toMatch(/must be a duration like 30m/);
    expect(await axeViolations(lea)).toEqual([]);
    await lea.getByLabel('Erinnerung alle').fill('1h');
    await Promise.all([lea.waitForURL(/\/routes\?ok=saved/), lea.getByRole('button', { name: 'Speichern' }).click()]);
    expect(await lea.locator('article.route-card', { hasText: 'Leitstelle Wieseck' }).locator('.route-matches').textContent()).toMatch(
      /passt auf 1 Station\(en\), 0 Regel\(n\)/,
    );
    const made = (await s.ok<{ items: RouteOut[] }>('GET', '/api/v1/routes')).items.find((r) => r.name === 'Leitstelle Wieseck');
    expect(made?.match).toEqual({ minSeverity: 'severe', deviceIds: ['gi-sued'] });
    expect(made?.repeatEvery).toBe('1h');
    // the secret still works: the receiver gets a test message
    const before = hook.bodies().length;
    await lea
      .locator('article.route-card', { hasText: 'Leitstelle Wieseck' })
      .locator('tbody tr')
      .nth(1)
      .getByRole('button', { name: 'Testnachricht senden' })
      .click();
    expect(await lea.locator('.msg-ok').textContent()).toMatch(/zugestellt \(200\)/);
    expect(hook.bodies().length).toBe(before + 1);
  });

  it('another municipality cannot open or change the route, and a responder reaches no route page', async () => {
    const id = (await s.ok<{ items: RouteOut[] }>('GET', '/api/v1/routes')).items.find((r) => r.name === 'Leitstelle Wieseck')?.id as string;
    const wz = await userPage('wetzlar');
    expect((await wz.goto(`${s.httpUrl}/routes/${id}/edit`))?.status()).toBe(404);
    await wz.goto(`${s.httpUrl}/routes/new`);
    expect(await wz.locator('form.route-form').textContent()).not.toMatch(/Gießen/);
    const fw = await userPage('feuerwehr');
    expect((await fw.goto(`${s.httpUrl}/routes/new`))?.status()).toBe(403);
    expect((await fw.goto(`${s.httpUrl}/routes/${id}/edit`))?.status()).toBe(403);
  });

  it('deleting the route removes it', async () => {
    await lea.goto(`${s.httpUrl}/routes`);
    await lea
      .locator('article.route-card', { hasText: 'Leitstelle Wieseck' })
      .getByRole('link', { name: /Leitstelle Wieseck/ })
      .click();
    await Promise.all([lea.waitForURL(/\/routes\?ok=deleted/), lea.getByRole('button', { name: 'Löschen' }).click()]);
    expect(await lea.locator('main').textContent()).not.toMatch(/Leitstelle Wieseck/);
    expect(lea.problems).toEqual([]);
  });
});
