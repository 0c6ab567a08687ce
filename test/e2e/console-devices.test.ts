// The console's device pages in a real browser, as an integrator connecting a gauge uses them: register a
// js-codec device on the map, test-decode a frame, publish over MQTT and watch the uplink arrive in the live
// view, then see a malformed uplink there with its reason. Viewers see no credentials; a municipality's
// users see nothing of another's. axe-core on every page.
import fs from 'node:fs';
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
});
