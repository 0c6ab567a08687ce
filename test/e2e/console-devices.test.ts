// The console's device pages in a real browser, as an integrator connecting a gauge uses them: register a
// js-codec device on the map, test-decode a frame, publish over MQTT and watch the uplink arrive in the live
// view, then see a malformed uplink there with its reason. Viewers see no credentials; a municipality's
// users see nothing of another's. axe-core on every page.
import fs from 'node:fs';
import mqtt from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'regen-geraete-2026';
// a TTN-style codec: distance in mm as a big-endian uint16, battery in centivolts
const CODEC = `function decodeUplink(input) {
  var b = input.bytes;
  if (b.length < 3) return { errors: ['need 3 bytes, got ' + b.length] };
  return { data: { distance: (b[0] << 8) | b[1], battery: b[2] / 100 } };
}`;
const EUI = '70B3D57ED0001234';
const SHOTS = process.env.SCREENSHOT_DIR; // set to docs/img to refresh the README's pictures

let s: TestSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function userPage(login: string, locale = 'de-DE'): Promise<Page & { problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale });
  contexts.push(ctx);
  const page = await newPage(ctx);
  await logIn(page, s.httpUrl, login, PW);
  return page;
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

const chirpstack = (fCnt: number, hex: string) => ({
  deviceInfo: { devEui: EUI.toLowerCase() },
  fCnt,
  fPort: 2,
  data: Buffer.from(hex, 'hex').toString('base64'),
  rxInfo: [{ gatewayId: 'gw1', rssi: -97, snr: 7.5 }],
});

describe.skipIf(!HAVE_CHROMIUM)('device pages in chromium', () => {
  beforeAll(async () => {
    s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none' } });
    for (const [login, role, org, name] of [
      ['ines', 'integrator', 'giessen', 'Ines Integratorin'],
      ['vera', 'viewer', 'giessen', 'Vera Viewer'],
      ['wanda', 'integrator', 'wetzlar', 'Wanda Wetzlar'],
      ['chefin', 'admin', null, 'Clara Chefin'],
    ] as const) {
      await s.ok('POST', '/api/v1/users', { login, role, org, name, password: PW });
    }
    await s.ok('POST', '/api/v1/codecs', { id: 'abstand-v1', source: CODEC, fieldMap: { distance_mm: 'distance', battery_v: 'battery' } });
    await s.ok('POST', '/api/v1/devices', { id: 'wz-pegel', name: 'Pegel Wetzlar Lahn', model: 'generic', org: 'wetzlar', location: { lat: 50.55, lon: 8.5 } });
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-rain',
      name: 'Regenschreiber Gießen',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.6, lon: 8.68 },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
  });

  let ines: Page & { problems: string[] };

  it('an integrator registers a js-codec device: the model picker explains the model, the map sets the location, errors show next to the field', async () => {
    ines = await userPage('ines');
    await ines.getByRole('link', { name: 'Geräte' }).click();
    await ines.waitForURL(/\/devices$/);
    expect(await axeViolations(ines)).toEqual([]);
    await ines.getByRole('link', { name: 'Gerät registrieren' }).click();
    await ines.waitForURL(/\/devices\/new$/);
    await ines.getByLabel('Modell', { exact: true }).selectOption('js-codec');
    expect(await ines.locator('#model-doc [data-model="js-codec"]').isVisible()).toBe(true);
    expect(await ines.locator('#model-doc [data-model="generic"]').isVisible()).toBe(false);
    expect(await ines.locator('#model-doc [data-model="js-codec"]').textContent()).toMatch(/mountHeightMm/);
    // a taken id and a bad DevEUI: the form comes back with the errors at the fields and the input kept
    await ines.getByLabel('Geräte-ID').fill('gi-rain');
    await ines.getByLabel('Name', { exact: true }).fill('Pegel Wieseck');
    await ines.getByLabel(/^DevEUI/).fill('70B3-nope');
    await ines.getByLabel(/^Codec/).selectOption('abstand-v1');
    await ines.locator('#pick-map').click({ position: { x: 200, y: 150 } });
    expect(await ines.getByLabel('Breite', { exact: true }).inputValue()).toMatch(/^\d+\.\d+$/);
    await ines.getByRole('button', { name: 'Registrieren' }).click();
    expect(await ines.locator('#f-devEui-err').textContent()).toMatch(/16 hex digits/);
    expect(await ines.getByLabel(/^DevEUI/).getAttribute('aria-invalid')).toBe('true');
    expect(await ines.getByLabel('Name', { exact: true }).inputValue()).toBe('Pegel Wieseck');
    await ines.getByLabel(/^DevEUI/).fill(EUI);
    await ines.getByRole('button', { name: 'Registrieren' }).click();
    expect(await ines.locator('#f-id-err').textContent()).toMatch(/not available/);
    expect(await axeViolations(ines)).toEqual([]);
    await ines.getByLabel('Geräte-ID').fill('gi-wieseck');
    await ines.getByLabel('Breite', { exact: true }).fill('50.5871');
    await ines.getByLabel('Länge', { exact: true }).fill('8.6755');
    await ines.getByLabel('mountHeightMm').fill('3000');
    await ines.getByLabel(/Erwartetes Sendeintervall/).fill('15m');
    await shot(ines, 'console-device-register');
    await ines.getByRole('button', { name: 'Registrieren' }).click();
    await ines.waitForURL(/\/devices\/gi-wieseck\?registered=1$/);
    expect(await ines.getByText('Gerät gi-wieseck registriert.').isVisible()).toBe(true);
    // the same device the API shows, in the integrator's municipality
    const dev = await s.ok('GET', '/api/v1/devices/gi-wieseck');
    expect(dev).toMatchObject({ model: 'js-codec', org: 'giessen', devEui: EUI, location: { lat: 50.5871, lon: 8.6755 } });
    expect(dev.params).toMatchObject({ codec: 'abstand-v1', mountHeightMm: 3000, expectedInterval: '15m' });
    expect(ines.problems).toEqual([]);
  });

  it('test-decodes a frame with the device codec, in the sandbox, and shows why a bad frame does not decode', async () => {
    await ines.getByLabel('Frame (hex)').fill('04 D2 E6');
    await ines.getByLabel('fPort').fill('2');
    await ines.getByRole('button', { name: 'Dekodieren' }).click();
    const decoded = ines.locator('#test-result table.decoded');
    await decoded.waitFor();
    expect(await decoded.locator('tr[data-metric="distance_mm"]').textContent()).toMatch(/1\.234 mm/);
    expect(await decoded.locator('tr[data-metric="battery_v"]').textContent()).toMatch(/2,3 V/);
    expect(await axeViolations(ines)).toEqual([]);
    await ines.getByLabel('Frame (hex)').fill('04');
    await ines.getByRole('button', { name: 'Dekodieren' }).click();
    expect(await ines.locator('#test-result [data-reason]').textContent()).toMatch(/decode_error.*need 3 bytes, got 1/);
    await ines.getByLabel('Frame (hex)').fill('xyz');
    await ines.getByRole('button', { name: 'Dekodieren' }).click();
    expect(await ines.locator('#td-bytes-err').textContent()).toMatch(/hex digits/);
    // nothing was stored by decoding
    expect((await s.ok('GET', '/api/v1/devices/gi-wieseck/readings?metric=distance_mm')).points).toEqual([]);
  });

  it('an uplink sent over MQTT appears in the live view without a reload; a malformed one shows with its reason', async () => {
    await ines.goto(`${s.httpUrl}/devices/gi-wieseck`);
    await ines.locator('body[data-live="1"]').waitFor();
    await ines.evaluate(() => ((window as any).__sameDocument = true));
    const c = await s.mqttClient();
    await publish(c, `application/1/device/${EUI.toLowerCase()}/event/up`, chirpstack(1, '0bb8f0'));
    const up = ines.locator('#live-log tr[data-kind="uplink"]');
    await up.first().waitFor({ timeout: 10_000 });
    expect(await up.first().textContent()).toMatch(/battery_v = 2,4 V[\s\S]*distance_mm = 3\.000 mm[\s\S]*level_cm = 0 cm[\s\S]*fCnt 1[\s\S]*-97 dBm/);
    expect(await ines.locator('#dev-health [data-health]').getAttribute('data-health')).toBe('ok');
    await publish(c, `application/1/device/${EUI.toLowerCase()}/event/up`, chirpstack(2, '0b'));
    const rej = ines.locator('#live-log tr[data-kind="rejected"]');
    await rej.first().waitFor({ timeout: 10_000 });
    expect(await rej.first().getAttribute('data-reason')).toBe('decode_error');
    expect(await rej.first().textContent()).toMatch(/need 3 bytes, got 1/);
    await publish(c, `application/1/device/${EUI.toLowerCase()}/event/up`, '{"fPort": 2, "data": ');
    c.end(true);
    await expect.poll(() => rej.count(), { timeout: 10_000 }).toBe(2);
    expect(await rej.first().getAttribute('data-reason')).toBe('invalid_json');
    expect(await ines.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(await axeViolations(ines)).toEqual([]);
    await shot(ines, 'console-device-live');
    // filtered by reason: only the codec's rejections
    await ines.getByLabel('Anzeigen').selectOption('decode_error');
    await ines.getByRole('button', { name: 'Filtern' }).click();
    await ines.waitForURL(/show=decode_error/);
    expect(await ines.locator('#live-log tbody tr').count()).toBe(1);
    expect(await ines.locator('#live-log tbody tr').getAttribute('data-reason')).toBe('decode_error');
    // the list shows its health: seen, battery, radio
    await ines.goto(`${s.httpUrl}/devices`);
    const row = ines.locator('tr[data-device="gi-wieseck"]');
    expect(await row.getAttribute('data-health')).toBe('ok');
    expect(await row.textContent()).toMatch(/2,4 V[\s\S]*-97 dBm \/ 7,5 dB/);
    expect(await ines.locator('tr[data-device="gi-rain"]').getAttribute('data-health')).toBe('never');
    await shot(ines, 'console-devices');
    await ines.getByLabel('Zustand').selectOption('never');
    await ines.getByRole('button', { name: 'Filtern' }).click();
    expect(await ines.locator('tr[data-device]').count()).toBe(1);
    expect(ines.problems).toEqual([]);
  });

  it("a municipality's integrator sees nothing of another municipality on the device pages", async () => {
    const wanda = await userPage('wanda');
    await wanda.goto(`${s.httpUrl}/devices`);
    expect(await wanda.locator('tr[data-device]').count()).toBe(1);
    expect(await wanda.content()).not.toMatch(/gi-wieseck|Gießen|giessen/);
    for (const path of ['/devices/gi-wieseck', '/devices/gi-wieseck/live']) {
      const r = await wanda.goto(`${s.httpUrl}${path}`);
      expect(r?.status()).toBe(404);
    }
    const r = await wanda.request.post(`${s.httpUrl}/devices/gi-wieseck/test-decode`, { form: { bytes: '04d2e6', fPort: '2' } });
    expect(r.status()).toBe(403); // no CSRF token of hers either
    expect(await axeViolations(wanda)).toEqual([]);
  });

  it('a viewer sees the device list but cannot register or test-decode', async () => {
    const vera = await userPage('vera');
    await vera.goto(`${s.httpUrl}/devices`);
    expect(await vera.getByRole('link', { name: 'Gerät registrieren' }).count()).toBe(0);
    expect(await vera.locator('tr[data-device="gi-wieseck"]').count()).toBe(1);
    await vera.goto(`${s.httpUrl}/devices/gi-wieseck`);
    expect(await vera.getByRole('button', { name: 'Dekodieren' }).count()).toBe(0);
    expect((await vera.goto(`${s.httpUrl}/devices/new`))?.status()).toBe(403);
    expect(await axeViolations(vera)).toEqual([]);
  });

  it('an integrator creates MQTT access: the password is shown once with a copy button and works on the broker; rotate and delete', async () => {
    await ines.goto(`${s.httpUrl}/devices`);
    await ines.getByRole('link', { name: 'MQTT-Zugänge' }).click();
    await ines.waitForURL(/\/mqtt-credentials$/);
    expect(await axeViolations(ines)).toEqual([]);
    // another municipality's topic is refused, next to the field
    await ines.getByLabel('Benutzername').fill('gw-giessen');
    await ines.getByLabel(/Darf senden an/).fill('devices/wz-pegel/up');
    await ines.getByRole('button', { name: 'Zugang anlegen' }).click();
    expect(await ines.locator('#f-publish-err').textContent()).toMatch(/wz-pegel/);
    await ines.getByLabel(/Darf senden an/).fill('devices/gi-rain/up');
    await ines.getByRole('button', { name: 'Zugang anlegen' }).click();
    const secret = ines.locator('#new-secret');
    await secret.waitFor();
    const password = (await secret.textContent())!.trim();
    expect(password.length).toBeGreaterThan(20);
    await ines.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await ines.getByRole('button', { name: 'Kopieren' }).click();
    expect(await ines.evaluate(() => navigator.clipboard.readText())).toBe(password);
    expect(await axeViolations(ines)).toEqual([]);
    await shot(ines, 'console-mqtt-credentials');
    // shown once: the list shows the user name, never the password
    await ines.goto(`${s.httpUrl}/mqtt-credentials`);
    expect(await ines.locator('tr[data-username="gw-giessen"]').count()).toBe(1);
    expect(await ines.content()).not.toContain(password);
    // the password works: an uplink published with it shows up in gi-rain's live view
    await ines.goto(`${s.httpUrl}/devices/gi-rain`);
    await ines.locator('body[data-live="1"]').waitFor();
    const c = mqtt.connect(s.mqttUrl!, { username: 'gw-giessen', password, reconnectPeriod: 0 });
    await new Promise((res, rej) => {
      c.once('connect', res);
      c.once('error', rej);
    });
    await publish(c, 'devices/gi-rain/up', { readings: { rain_mm: 0.4, battery_v: 3.61 } });
    c.end(true);
    await ines.locator('#live-log tr[data-kind="uplink"]').first().waitFor({ timeout: 10_000 });
    expect(await ines.locator('#live-log tr[data-kind="uplink"]').first().textContent()).toMatch(/rain_mm = 0,4 mm/);
    // rotate: a new password, shown once; delete: gone
    await ines.goto(`${s.httpUrl}/mqtt-credentials`);
    await ines.getByRole('button', { name: 'Neues Passwort: gw-giessen' }).click();
    const rotated = (await ines.locator('#new-secret').textContent())!.trim();
    expect(rotated).not.toBe(password);
    await ines.getByRole('button', { name: 'Löschen: gw-giessen' }).click();
    expect(await ines.getByText('Zugang gw-giessen gelöscht.').isVisible()).toBe(true);
    expect(await ines.locator('tr[data-username="gw-giessen"]').count()).toBe(0);
    expect((await s.ok('GET', '/api/v1/mqtt-credentials')).items.map((x: { username: string }) => x.username)).not.toContain('gw-giessen');
    expect(ines.problems).toEqual([]);
  });

  it('a viewer cannot see credentials: no link, 403 on the page, no rotate or delete', async () => {
    await s.ok('POST', '/api/v1/mqtt-credentials', { username: 'gw-geheim', publish: ['devices/+/up'] });
    const vera = await userPage('vera');
    await vera.goto(`${s.httpUrl}/devices`);
    expect(await vera.getByRole('link', { name: 'MQTT-Zugänge' }).count()).toBe(0);
    const r = await vera.goto(`${s.httpUrl}/mqtt-credentials`);
    expect(r?.status()).toBe(403);
    expect(await vera.content()).not.toContain('gw-geheim');
    const post = await vera.request.post(`${s.httpUrl}/mqtt-credentials/rotate`, { form: { username: 'gw-geheim' } });
    expect(post.status()).toBe(403);
    expect(await axeViolations(vera)).toEqual([]);
    // a municipality's integrator sees only its municipality's credentials
    const wanda = await userPage('wanda');
    await wanda.goto(`${s.httpUrl}/mqtt-credentials`);
    expect(await wanda.content()).not.toContain('gw-geheim');
    expect((await wanda.goto(`${s.httpUrl}/codecs`))?.status()).toBe(403);
  });

  it('an installation admin uploads a codec with a test frame; a broken one is refused with the reason at the source', async () => {
    const chefin = await userPage('chefin');
    await chefin.goto(`${s.httpUrl}/codecs`);
    expect(await chefin.locator('tr[data-codec="abstand-v1"]').count()).toBe(1);
    await chefin.getByLabel('Codec-ID').fill('kaputt');
    await chefin.getByLabel(/^Quelltext/).fill('function decodeUplink(input) { while (true) {} }');
    await chefin.getByLabel(/^Feld-Mapping/).fill('distance_mm=distance');
    await chefin.getByLabel(/^Test-Frame/).fill('0102');
    await chefin.getByRole('button', { name: 'Prüfen und speichern' }).click();
    expect(await chefin.locator('#c-bytes-err').textContent()).toMatch(/longer than 50 ms/);
    expect(await chefin.locator('tr[data-codec="kaputt"]').count()).toBe(0);
    await chefin.getByLabel(/^Quelltext/).fill('function decodeUplink(input) { return { data: { level: input.bytes[0] * 10 } }; }');
    await chefin.getByLabel(/^Feld-Mapping/).fill('level_cm=level');
    await chefin.getByRole('button', { name: 'Prüfen und speichern' }).click();
    expect(await chefin.getByText('Codec kaputt gespeichert.').isVisible()).toBe(true);
    expect(await chefin.locator('table.decoded tr[data-metric="level_cm"]').textContent()).toMatch(/10/);
    expect(await axeViolations(chefin)).toEqual([]);
  });

  it('an installation admin creates a municipality with its admin, who issues an API token with expiry, sees its last use and revokes it; the audit log filters', async () => {
    const chefin = await userPage('chefin');
    await chefin.goto(`${s.httpUrl}/admin/orgs`);
    expect(await chefin.locator('tr[data-org="giessen"]').textContent()).toMatch(/giessen\s*2\s*2/);
    await chefin.getByLabel('Kennung').fill('lahnau');
    await chefin.getByLabel(/Benutzername des Administrators/).fill('lara');
    await chefin.getByLabel('Name', { exact: true }).fill('Lara Lahnau');
    await chefin.getByLabel(/Erstes Passwort/).fill(PW);
    await chefin.getByRole('button', { name: /Kommune mit erstem Administrator anlegen/ }).click();
    expect(await chefin.getByText('Kommune lahnau mit Administrator lara angelegt.').isVisible()).toBe(true);
    expect(await axeViolations(chefin)).toEqual([]);

    const lara = await userPage('lara');
    expect((await lara.goto(`${s.httpUrl}/admin/orgs`))?.status()).toBe(403);
    await lara.goto(`${s.httpUrl}/admin/tokens`);
    await lara.getByLabel('Name', { exact: true }).fill('Pegelportal');
    await lara.getByLabel('Rolle').selectOption('viewer');
    await lara.getByLabel(/Gültig bis/).fill('2099-12-31T23:00');
    await lara.getByRole('button', { name: 'Token anlegen' }).click();
    const token = (await lara.locator('#new-secret').textContent())!.trim();
    const row = lara.locator('tr[data-token]', { hasText: 'Pegelportal' });
    expect(await row.textContent()).toMatch(/viewer[\s\S]*nie[\s\S]*31\.12\.99, 23:00 MEZ/);
    await shot(lara, 'console-tokens');
    // the token is the municipality's: it sees lahnau's (no) devices, and its use shows as last used
    const api = await s.api('GET', '/api/v1/devices', undefined, token);
    expect(api).toMatchObject({ status: 200, body: { items: [] } });
    await expect
      .poll(
        async () => {
          await lara.goto(`${s.httpUrl}/admin/tokens`);
          return row.textContent();
        },
        { timeout: 8000 },
      )
      .not.toMatch(/viewer[\s\S]*nie/);
    expect(await lara.content()).not.toContain(token);
    expect(await axeViolations(lara)).toEqual([]);
    await row.getByRole('button', { name: /Widerrufen/ }).click();
    expect(await lara.locator('tr[data-token]', { hasText: 'Pegelportal' }).count()).toBe(0);
    expect((await s.api('GET', '/api/v1/devices', undefined, token)).status).toBe(401);
    // the audit log: lara sees what lahnau did, not what giessen's integrator did
    await lara.goto(`${s.httpUrl}/audit`);
    expect(await lara.locator('table.audit tbody').textContent()).toMatch(/web:lara[\s\S]*revoke[\s\S]*token/);
    expect(await lara.content()).not.toMatch(/web:ines|gi-wieseck/);
    expect(await axeViolations(lara)).toEqual([]);
    await chefin.goto(`${s.httpUrl}/audit`);
    await chefin.getByLabel('Objektart').selectOption('device');
    await chefin.getByLabel('Wer').fill('ines');
    await chefin.getByRole('button', { name: 'Filtern' }).click();
    const rows = chefin.locator('table.audit tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.textContent()).toMatch(/web:ines[\s\S]*create[\s\S]*device gi-wieseck/);
    expect(await axeViolations(chefin)).toEqual([]);
  });
});
