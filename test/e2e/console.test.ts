// The web console in a real browser, as the people at the Leitstelle use it: log in, watch a storm turn a
// station red on the Lagebild without reloading, acknowledge from the board while a colleague's browser
// follows, and stay inside their own municipality and role.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiver, webhook } from '../helpers/alarms.ts';
import { axeViolations, HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'regen-lage-2026';
let s: TestSystem;
let browser: Browser;
let hook: Awaited<ReturnType<typeof receiver>>;
const contexts: BrowserContext[] = [];

async function userPage(
  login: string,
  o: { viewport?: { width: number; height: number }; mobile?: boolean; locale?: string } = {},
): Promise<Page & { problems: string[] }> {
  const ctx = await browser.newContext({
    viewport: o.viewport ?? { width: 1400, height: 900 },
    isMobile: o.mobile,
    hasTouch: o.mobile,
    locale: o.locale ?? 'de-DE',
  });
  contexts.push(ctx);
  const page = await newPage(ctx);
  await logIn(page, s.httpUrl, login, PW);
  return page;
}

const stationStatus = (page: Page, id: string) => page.locator(`[data-station="${id}"]`).getAttribute('data-status');

describe.skipIf(!HAVE_CHROMIUM)('web console in chromium', () => {
  beforeAll(async () => {
    s = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none' } });
    for (const [login, role, org, name] of [
      ['leitstelle', 'operator', 'giessen', 'Lea Leitstelle'],
      ['kollege', 'operator', 'giessen', 'Karl Kollege'],
      ['feuerwehr', 'responder', 'giessen', 'Fritz Feuerwehr'],
      ['wetzlar', 'operator', 'wetzlar', 'Wanda Wetzlar'],
      ['chefin', 'admin', null, 'Clara Chefin'],
    ] as const) {
      await s.ok('POST', '/api/v1/users', { login, role, org, name, password: PW });
    }
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-rain',
      name: 'Regenschreiber Gießen-Nord',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.6, lon: 8.68 },
    });
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-xss',
      name: '<script>alert("x")</script><b>fett</b>',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.57, lon: 8.64 },
    });
    await s.ok('POST', '/api/v1/devices', {
      id: 'wz-rain',
      name: 'Regenschreiber Wetzlar',
      model: 'generic',
      org: 'wetzlar',
      location: { lat: 50.55, lon: 8.5 },
    });
    await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['gi-rain'] }, org: 'giessen' });
    await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['wz-rain'] }, org: 'wetzlar' });
    hook = await receiver();
    await s.ok('POST', '/api/v1/routes', { name: 'Feuerwehr Gießen', match: { deviceIds: ['gi-rain'] }, targets: [webhook(hook.url)], org: 'giessen' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
    await hook?.close();
  });

  let lea: Page & { problems: string[] };
  let karl: Page & { problems: string[] };

  it('an operator logs in and sees the Lagebild: map with legend and an empty board, no accessibility or CSP problems', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    contexts.push(ctx);
    lea = await newPage(ctx);
    await lea.goto(`${s.httpUrl}/`);
    expect(new URL(lea.url()).pathname).toBe('/login');
    expect(await axeViolations(lea)).toEqual([]);
    await logIn(lea, s.httpUrl, 'leitstelle', PW);
    expect(new URL(lea.url()).pathname).toBe('/');
    await expect.poll(() => lea.locator('body').getAttribute('data-live')).toBe('1');
    await lea.locator('[data-station="gi-rain"]').waitFor();
    expect(await lea.getByText('Keine offenen Alarme.').isVisible()).toBe(true);
    expect(await lea.locator('.legend').textContent()).toMatch(/kein Alarm[\s\S]*sehr hoch[\s\S]*offline/);
    expect(await axeViolations(lea)).toEqual([]);
    expect(lea.problems).toEqual([]);
  });

  it('a storm published over MQTT turns the station red and puts the alarm on the board, without a reload', async () => {
    karl = await userPage('kollege');
    await karl.locator('[data-station="gi-rain"]').waitFor();
    await expect.poll(() => karl.locator('body').getAttribute('data-live')).toBe('1');
    // a marker that a reload would wipe out
    for (const p of [lea, karl]) await p.evaluate(() => ((window as any).__sameDocument = true));
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-rain/up', { readings: { rain_mm: 28 } });
    c.end(true);
    for (const p of [lea, karl]) {
      const row = p.locator('#board tr[data-device="gi-rain"]');
      await row.waitFor({ timeout: 10_000 });
      expect(await row.getAttribute('data-severity')).toBe('severe');
      expect(await row.textContent()).toMatch(/hoch[\s\S]*Regenschreiber Gießen-Nord[\s\S]*DWD Starkregen[\s\S]*28 mm in 1h \/ 25 mm[\s\S]*ausgelöst/);
      await expect.poll(() => stationStatus(p, 'gi-rain')).toBe('severe');
      expect(await p.evaluate(() => (window as any).__sameDocument)).toBe(true);
    }
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('acknowledging from the board shows on the colleague’s open browser, with who did it', async () => {
    await lea
      .locator('#board tr[data-device="gi-rain"]')
      .getByRole('button', { name: /Quittieren/ })
      .click();
    for (const p of [lea, karl]) {
      const row = p.locator('#board tr[data-device="gi-rain"]');
      await expect.poll(() => row.locator('.state').textContent()).toBe('quittiert');
      expect(await row.locator('.acked-by').textContent()).toMatch(/Lea Leitstelle/);
      expect(await p.evaluate(() => (window as any).__sameDocument)).toBe(true);
    }
    const alarms = (await s.ok('GET', '/api/v1/alarms')).items;
    expect(alarms.find((a: { deviceId: string }) => a.deviceId === 'gi-rain').acknowledgedBy).toBe('Lea Leitstelle');
  });

  it('the alarm view lists the transitions and who acknowledged, and links to the station', async () => {
    await lea.locator('#board tr[data-device="gi-rain"] a', { hasText: 'DWD Starkregen' }).click();
    await lea.waitForURL(/\/alarms\/\d+$/);
    const hist = await lea.locator('table.history').textContent();
    expect(hist).toMatch(/ausgelöst/);
    expect(hist).toMatch(/quittiert[\s\S]*Lea Leitstelle/);
    // who was told what, and whether it arrived
    await hook.waitRequests(1);
    await lea.reload();
    const told = await lea.locator('table.notifications').textContent();
    expect(told).toContain(hook.url);
    expect(told).toMatch(/webhook[\s\S]*alarm\.firing[\s\S]*zugestellt/);
    expect(await lea.getByRole('link', { name: 'Regenschreiber Gießen-Nord' }).getAttribute('href')).toBe('/stations/gi-rain');
    expect(await axeViolations(lea)).toEqual([]);
    expect(lea.problems).toEqual([]);
  });

  it('the station page draws the hydrograph with the Meldestufen lines, the alarm period and the flagged reading; CSV of the range', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'gi-pegel', name: 'Pegel Lahn Gießen', model: 'generic', org: 'giessen', location: { lat: 50.58, lon: 8.66 } });
    await s.ok('POST', '/api/v1/rules', { preset: 'pegel-meldestufen', thresholds: [150, 200, 250], scope: { deviceIds: ['gi-pegel'] }, org: 'giessen' });
    // the last two hours every 10 minutes, rising from 100 to 177 cm, with one impossible value the ingest flags
    const now = Date.now();
    const points = Array.from({ length: 12 }, (_, k) => ({ time: new Date(now - (11 - k) * 600_000).toISOString(), readings: { level_cm: 100 + 7 * k } }));
    points.splice(6, 0, { time: new Date(now - 5.5 * 600_000).toISOString(), readings: { level_cm: 9000 } });
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-pegel/up', points);
    c.end(true);
    await expect.poll(async () => (await s.ok('GET', '/api/v1/alarms?deviceId=gi-pegel')).items.length).toBe(1);

    await lea.goto(`${s.httpUrl}/stations/gi-pegel?range=6h`);
    const chart = lea.locator('#chart-level_cm');
    await expect.poll(() => chart.getAttribute('data-drawn')).toBe('13');
    const legend = await lea.locator('.chart-legend').textContent();
    expect(legend).toMatch(/Meldestufe I: 150 cm[\s\S]*Meldestufe II: 200 cm[\s\S]*Meldestufe III: 250 cm/);
    expect(legend).toMatch(/markierte Werte/);
    expect(legend).toMatch(/Alarmzeitraum/);
    // what is on the canvas: the dashed Meldestufe line across the plot, the blue curve, the shaded alarm period
    const drawn = await lea.evaluate(() => {
      const u = (window as any).__charts.level_cm;
      const cv: HTMLCanvasElement = u.ctx.canvas;
      const img = u.ctx.getImageData(0, 0, cv.width, cv.height).data;
      const css = getComputedStyle(document.documentElement);
      const rgb = (v: string) => {
        const h = css.getPropertyValue(v).trim().replace('#', '');
        return [0, 2, 4].map((k) => Number.parseInt(h.slice(k, k + 2), 16));
      };
      const near = (x: number, y: number, c: number[]) => {
        const o = (y * cv.width + x) * 4;
        return Math.abs(img[o] - c[0]) < 40 && Math.abs(img[o + 1] - c[1]) < 40 && Math.abs(img[o + 2] - c[2]) < 40;
      };
      const b = u.bbox;
      const row = (value: number, c: number[]) => {
        const y = Math.round(u.valToPos(value, 'y', true));
        let n = 0;
        for (let x = Math.round(b.left); x < b.left + b.width; x++) if (near(x, y, c) || near(x, y - 1, c) || near(x, y + 1, c)) n++;
        return n / b.width;
      };
      let curve = 0;
      for (let y = Math.round(b.top); y < b.top + b.height; y += 1)
        for (let x = Math.round(b.left); x < b.left + b.width; x += 2) if (near(x, y, rgb('--series'))) curve++;
      return {
        stage1: row(150, rgb('--sev-moderate')),
        stage2: row(200, rgb('--sev-severe')),
        stage3: row(250, rgb('--sev-extreme')),
        curve,
        yMax: u.scales.y.max,
      };
    });
    expect(drawn.stage1).toBeGreaterThan(0.4);
    expect(drawn.stage2).toBeGreaterThan(0.4);
    expect(drawn.stage3).toBeGreaterThan(0.4);
    expect(drawn.curve).toBeGreaterThan(50);
    expect(drawn.yMax).toBeLessThan(400); // the flagged 9000 cm does not squash the curve
    expect(await lea.locator('details.data-table tr.flagged').first().textContent()).toMatch(/9\.000[\s\S]*out_of_range/);
    expect(await axeViolations(lea)).toEqual([]);
    expect(lea.problems).toEqual([]);

    const csv: string = await lea.evaluate(async () => (await fetch('/stations/gi-pegel/readings.csv?range=6h')).text());
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('time,metric,value,unit,quality,flags');
    expect(rows.filter((r) => r.includes(',level_cm,'))).toHaveLength(13);
    expect(rows.some((r) => /,level_cm,9000,cm,1,out_of_range$/.test(r))).toBe(true);
  });

  it('the open station page draws a new reading without a reload', async () => {
    await lea.goto(`${s.httpUrl}/stations/gi-pegel?range=6h`);
    const chart = lea.locator('#chart-level_cm');
    await expect.poll(() => chart.getAttribute('data-drawn')).toBe('13');
    await lea.evaluate(() => ((window as any).__sameDocument = true));
    const seenBefore = await lea.locator('#last-seen').textContent();
    await new Promise((r) => setTimeout(r, 1500)); // the event stream is open
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-pegel/up', { time: new Date(Date.now() + 60_000).toISOString(), readings: { level_cm: 181 } });
    c.end(true);
    await expect.poll(() => chart.getAttribute('data-drawn'), { timeout: 10_000 }).toBe('14');
    expect(await lea.evaluate(() => (window as any).__sameDocument)).toBe(true);
    await expect.poll(() => lea.locator('#last-seen').textContent()).not.toBe(seenBefore);
    expect(lea.problems).toEqual([]);
  });

  it('a device named <script>… is shown as text, never run', async () => {
    await lea.goto(`${s.httpUrl}/`);
    await lea.locator('[data-station="gi-xss"]').click();
    await expect.poll(() => lea.locator('.leaflet-popup-content').textContent()).toContain('<script>alert("x")</script><b>fett</b>');
    expect(await lea.locator('.leaflet-popup-content b').count()).toBe(0);
    // the tooltip on hover too (Leaflet puts a string tooltip in as HTML)
    await lea.locator('[data-station="gi-xss"]').hover();
    await expect.poll(() => lea.locator('.leaflet-tooltip').last().textContent()).toContain('<script>alert("x")</script><b>fett</b>');
    expect(await lea.locator('.leaflet-tooltip b').count()).toBe(0);
    await lea.goto(`${s.httpUrl}/stations/gi-xss`);
    expect(await lea.locator('h1').textContent()).toContain('<script>alert("x")</script><b>fett</b>');
    expect(await lea.locator('h1 b').count()).toBe(0);
    expect(lea.problems).toEqual([]);
  });

  it('a silent station turns from grey to green when it talks again, without a reload; its popup fetches its newest values', async () => {
    await s.ok('POST', '/api/v1/devices', { id: 'gi-still', name: 'Pegel Wieseck', model: 'generic', org: 'giessen', location: { lat: 50.6, lon: 8.64 } });
    await lea.goto(`${s.httpUrl}/`);
    await expect.poll(() => lea.locator('body').getAttribute('data-live')).toBe('1');
    expect(await stationStatus(lea, 'gi-still')).toBe('offline');
    await lea.evaluate(() => ((window as any).__sameDocument = true));
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-still/up', { readings: { level_cm: 123.4 } });
    c.end(true);
    await expect.poll(() => stationStatus(lea, 'gi-still'), { timeout: 10_000 }).toBe('ok');
    expect(await lea.evaluate(() => (window as any).__sameDocument)).toBe(true);
    await lea.locator('[data-station="gi-still"]').click();
    await expect.poll(() => lea.locator('.leaflet-popup-content .latest[data-metric="level_cm"]').textContent()).toBe('level_cm: 123.4');
    expect(await lea.locator('.leaflet-popup-content').textContent()).toContain('Pegel Wieseck');
    // a redraw of the map (here a zoom; in a storm every alarm change) leaves the open popup open
    await lea.evaluate(() => ((window as any).__marker = document.querySelector('[data-station="gi-still"]')));
    await lea.locator('.leaflet-control-zoom-in').click();
    await expect.poll(() => lea.evaluate(() => (window as any).__marker.isConnected), { timeout: 10_000 }).toBe(false); // drawn anew
    await expect.poll(() => lea.locator('.leaflet-popup-content .latest[data-metric="level_cm"]').count()).toBe(1);
    expect(await lea.locator('.leaflet-popup-content').textContent()).toContain('Pegel Wieseck');
    expect(lea.problems).toEqual([]);
  });

  it("a responder cannot reach the operators' pages, and does not see their links", async () => {
    const fw = await userPage('feuerwehr');
    expect(await fw.getByRole('link', { name: 'Protokoll' }).count()).toBe(0);
    for (const path of ['/audit', '/admin/users']) {
      const r = await fw.goto(`${s.httpUrl}${path}`);
      expect(r?.status(), path).toBe(403);
      expect(await fw.locator('h1').textContent()).toBe('Kein Zugriff');
    }
    const r = await lea.goto(`${s.httpUrl}/audit`);
    expect(r?.status()).toBe(200);
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('a Wetzlar user sees nothing of Gießen: no stations, no alarms, no pages, no live events', async () => {
    const wz = await userPage('wetzlar');
    await wz.locator('[data-station="wz-rain"]').waitFor();
    await expect.poll(() => wz.locator('body').getAttribute('data-live')).toBe('1');
    expect(await wz.locator('[data-station^="gi-"]').count()).toBe(0);
    expect(await wz.locator('#board tr').count()).toBe(0);
    expect(await wz.content()).not.toContain('Gießen-Nord');
    // Gießen's alarm escalates: Wetzlar's board stays empty, Wetzlar's own storm arrives
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-rain/up', { readings: { rain_mm: 20 } });
    await publish(c, 'devices/wz-rain/up', { readings: { rain_mm: 16 } });
    c.end(true);
    await wz.locator('#board tr[data-device="wz-rain"]').waitFor({ timeout: 10_000 });
    await lea.goto(`${s.httpUrl}/`);
    await expect.poll(() => lea.locator('#board tr[data-device="gi-rain"]').getAttribute('data-severity')).toBe('extreme');
    expect(await wz.locator('#board tr[data-device^="gi-"]').count()).toBe(0);
    // only its own alarm reached Wetzlar's browser as a live event (Gießen's escalation came first)
    expect(await wz.locator('body').getAttribute('data-cues')).toBe('1');
    const giAlarm = (await s.ok('GET', '/api/v1/alarms?deviceId=gi-rain')).items[0].id;
    for (const path of ['/stations/gi-rain', `/alarms/${giAlarm}`]) {
      const r = await wz.goto(`${s.httpUrl}${path}`);
      expect(r?.status(), path).toBe(404);
    }
    const stations = await wz.evaluate(async () => (await (await fetch('/stations.json')).json()).stations.map((x: { id: string }) => x.id));
    expect(stations).toEqual(['wz-rain']);
  });

  it('on a phone the map sits above the board and the acknowledge button is a large touch target', async () => {
    const ph = await userPage('feuerwehr', { viewport: { width: 390, height: 844 }, mobile: true });
    const map = await ph.locator('#map').boundingBox();
    const board = await ph.locator('#board').boundingBox();
    expect(map && board && board.y >= map.y + map.height).toBe(true);
    // the menu is folded behind its button, so the first alarm is on the first screen
    const menu = ph.getByRole('button', { name: 'Menü' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await ph.getByRole('link', { name: 'Passwort ändern' }).isVisible()).toBe(false);
    const first = await ph.locator('#board tr[data-device="gi-rain"]').boundingBox();
    expect(first && first.y < 844).toBe(true);
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    expect(await ph.getByRole('link', { name: 'Passwort ändern' }).isVisible()).toBe(true);
    expect(await axeViolations(ph)).toEqual([]);
    await menu.click();
    expect(await ph.getByRole('link', { name: 'Passwort ändern' }).isVisible()).toBe(false);
    expect(map!.width).toBeLessThanOrEqual(390);
    const btn = ph.locator('#board tr[data-device="gi-rain"] button', { hasText: 'Quittieren' });
    const box = await btn.boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(44);
    // nothing wider than the screen
    expect(await ph.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await axeViolations(ph)).toEqual([]);
  });

  it('a new or escalated alarm gives a tone and a title-bar cue when the window is in the background; the tone can be muted', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    contexts.push(ctx);
    const p = await newPage(ctx);
    await logIn(p, s.httpUrl, 'kollege', PW);
    await expect.poll(() => p.locator('body').getAttribute('data-live')).toBe('1');
    // the operator looks at another window
    await p.evaluate(() => {
      document.hasFocus = () => false;
    });
    const c = await s.mqttClient();
    await publish(c, 'devices/wz-rain/up', { readings: { rain_mm: 0 } }); // another municipality: no cue
    await publish(c, 'devices/gi-rain/up', { readings: { rain_mm: 1 } });
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-rain-2',
      name: 'Regenschreiber Lindenplatz',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.59, lon: 8.69 },
    });
    await s.ok(
      'PATCH',
      `/api/v1/rules/${(await s.ok('GET', '/api/v1/rules')).items.find((r: { org: string; scope: { deviceIds?: string[] } }) => r.org === 'giessen' && r.scope.deviceIds?.includes('gi-rain')).id}`,
      {
        scope: { deviceIds: ['gi-rain', 'gi-rain-2'] },
      },
    );
    await publish(c, 'devices/gi-rain-2/up', { readings: { rain_mm: 16 } });
    await expect.poll(() => p.locator('body').getAttribute('data-cues')).toBe('1');
    expect(await p.locator('body').getAttribute('data-sound')).toBe('played');
    expect(await p.title()).toMatch(/^\(1\) ⚠ Neuer Alarm – Lagebild/);
    // muted: the next escalation still shows in the title, silently
    await p.getByRole('button', { name: 'Ton aus' }).click();
    expect(await p.getByRole('button', { name: 'Ton an' }).getAttribute('aria-pressed')).toBe('true');
    await publish(c, 'devices/gi-rain-2/up', { readings: { rain_mm: 12 } });
    c.end(true);
    await expect.poll(() => p.locator('body').getAttribute('data-cues')).toBe('2');
    expect(await p.locator('body').getAttribute('data-sound')).toBe('muted');
    expect(await p.title()).toMatch(/^\(2\) ⚠/);
    // back at the window: the title is plain again; the choice to mute is remembered
    await p.evaluate(() => {
      document.hasFocus = () => true;
      window.dispatchEvent(new Event('focus'));
    });
    expect(await p.title()).toBe('Lagebild – Regenwacht');
    await p.reload();
    expect(await p.locator('#mute').getAttribute('aria-pressed')).toBe('true');
  });

  it('the wall screen is dark, without navigation, and passes the accessibility check', async () => {
    await lea.goto(`${s.httpUrl}/?wall=1&lang=de`);
    expect(await lea.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await lea.locator('header nav').isVisible()).toBe(false);
    const bg = await lea.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 18, 23)');
    await lea.locator('#board tr[data-device="gi-rain"]').waitFor();
    expect(await axeViolations(lea)).toEqual([]);
  });

  it('filters the board by severity and state, keeping the filter in the address', async () => {
    await lea.goto(`${s.httpUrl}/`);
    await lea.locator('#board tr[data-device="gi-rain"]').waitFor();
    expect(await lea.locator('#board tr[data-device="gi-pegel"]').count()).toBe(1);
    await lea.locator('#filters select[name=severity]').selectOption('extreme');
    await expect.poll(() => lea.locator('#board tbody tr').count()).toBe(1);
    expect(await lea.locator('#board tbody tr').getAttribute('data-device')).toBe('gi-rain');
    expect(new URL(lea.url()).searchParams.get('severity')).toBe('extreme');
    await lea.locator('#filters select[name=state]').selectOption('acknowledged');
    await expect.poll(() => lea.locator('#board tbody tr').count()).toBe(0);
    await lea.reload();
    expect(await lea.locator('#filters select[name=state]').inputValue()).toBe('acknowledged');
    await lea.goto(`${s.httpUrl}/`);
  });

  it('zoomed out, nearby stations merge into one marker in the colour of the worst of them', async () => {
    await lea.goto(`${s.httpUrl}/`);
    await lea.locator('[data-station="gi-rain"]').waitFor();
    for (let k = 0; k < 5; k++) {
      await lea.locator('.leaflet-control-zoom-out').click();
      await lea.waitForTimeout(300);
    }
    const cluster = lea.locator('[data-cluster]').first();
    await cluster.waitFor();
    expect(Number(await cluster.getAttribute('data-cluster'))).toBeGreaterThanOrEqual(3);
    expect(await cluster.getAttribute('data-status')).toBe('extreme');
    expect(await lea.locator('[data-station="gi-rain"]').count()).toBe(0);
  });

  it('the rain page shows the bars with the DWD levels; the password and users pages pass the accessibility check', async () => {
    await lea.goto(`${s.httpUrl}/stations/gi-rain?range=6h`);
    await expect.poll(() => lea.locator('#chart-rain_mm').getAttribute('data-drawn')).not.toBeNull();
    const legend = await lea.locator('.chart-legend').textContent();
    expect(legend).toMatch(/Summe 1 h[\s\S]*Summe 6 h[\s\S]*DWD Stufe 2 \(1h\): 15 mm[\s\S]*DWD Stufe 4 \(6h\): 60 mm/);
    expect(await axeViolations(lea)).toEqual([]);
    await lea.goto(`${s.httpUrl}/account/password`);
    expect(await axeViolations(lea)).toEqual([]);
    const boss = await userPage('chefin');
    const r = await boss.goto(`${s.httpUrl}/admin/users`);
    expect(r?.status()).toBe(200);
    expect(await boss.locator('table').textContent()).toContain('Wanda Wetzlar');
    expect(await axeViolations(boss)).toEqual([]);
    expect(lea.problems).toEqual([]);
  });

  it('speaks English when asked', async () => {
    await lea.goto(`${s.httpUrl}/?lang=en`);
    expect(await lea.locator('#board-h').textContent()).toBe('Alarms');
    await lea.goto(`${s.httpUrl}/`);
    expect(await lea.locator('#board-h').textContent()).toBe('Alarms'); // remembered
    await lea.goto(`${s.httpUrl}/?lang=de`);
    expect(await lea.locator('#board-h').textContent()).toBe('Alarme');
  });

  it('the board works from the keyboard: Tab reaches the acknowledge button and Enter acknowledges', async () => {
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-kb',
      name: 'Regenschreiber Klinikum',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.575, lon: 8.67 },
    });
    await s.ok('POST', '/api/v1/devices', {
      id: 'gi-com',
      name: 'Regenschreiber Bahnhof',
      model: 'generic',
      org: 'giessen',
      location: { lat: 50.59, lon: 8.65 },
    });
    await s.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['gi-kb', 'gi-com'] }, org: 'giessen' });
    const c = await s.mqttClient();
    await publish(c, 'devices/gi-kb/up', { readings: { rain_mm: 28 } });
    await publish(c, 'devices/gi-com/up', { readings: { rain_mm: 28 } });
    c.end(true);
    await lea.goto(`${s.httpUrl}/`);
    await expect.poll(() => lea.locator('body').getAttribute('data-live')).toBe('1');
    const row = lea.locator('#board tr[data-device="gi-kb"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.state').textContent()).toBe('ausgelöst');
    const onAck = () =>
      lea.evaluate(() => document.activeElement?.tagName === 'BUTTON' && document.activeElement.closest('tr')?.getAttribute('data-device') === 'gi-kb');
    let presses = 0;
    while (!(await onAck()) && presses < 150) {
      await lea.keyboard.press('Tab');
      presses++;
    }
    expect(await onAck()).toBe(true);
    expect(await lea.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^Quittieren: DWD Starkregen/);
    await lea.keyboard.press('Enter');
    await expect.poll(() => row.locator('.state').textContent()).toBe('quittiert');
    expect(await row.locator('.acked-by').textContent()).toMatch(/Lea Leitstelle/);
    const alarm = (await s.ok('GET', '/api/v1/alarms?deviceId=gi-kb')).items[0];
    expect(alarm.acknowledgedBy).toBe('Lea Leitstelle');
  });

  it('acknowledging with a comment on the alarm view shows the comment in its history', async () => {
    const id = (await s.ok('GET', '/api/v1/alarms?deviceId=gi-com')).items[0].id;
    await lea.goto(`${s.httpUrl}/alarms/${id}`);
    await lea.getByLabel('Kommentar (optional)').fill('Pumpen angefordert, Feuerwehr <vor Ort>');
    await lea.getByRole('button', { name: /Quittieren/ }).click();
    await lea.waitForURL(/\/alarms\/\d+\?ok=ack$/);
    const hist = await lea.locator('table.history').textContent();
    expect(hist).toMatch(/quittiert[\s\S]*Lea Leitstelle[\s\S]*Pumpen angefordert, Feuerwehr <vor Ort>/);
    expect(await lea.getByRole('button', { name: /Quittieren/ }).count()).toBe(0);
    expect(await axeViolations(lea)).toEqual([]);
    expect(lea.problems).toEqual([]);
  });
});
