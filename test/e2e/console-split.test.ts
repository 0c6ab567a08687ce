// The console in a process of its own (ROLES=api) on the same PostgreSQL as the process that ingests:
// a storm stored and judged by the other process still reaches the open Lagebild without a reload.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, launchBrowser, logIn, newPage } from '../helpers/browser.ts';
import { TEST_DATABASE_URL } from '../helpers/env.ts';
import { publish, startSystem, type TestSystem } from '../helpers/system.ts';

const PW = 'geteilte-lage-2026';
let ingest: TestSystem;
let web: TestSystem;
let browser: Browser;

describe.skipIf(!HAVE_CHROMIUM || !TEST_DATABASE_URL)('console and ingest in two processes', () => {
  beforeAll(async () => {
    ingest = await startSystem({ store: 'pg', env: { MAP_TILES_URL: 'none' } });
    await ingest.ok('POST', '/api/v1/users', { login: 'leitstelle', role: 'operator', password: PW });
    await ingest.ok('POST', '/api/v1/devices', { id: 'rain-1', name: 'Regenschreiber Markt', model: 'generic', location: { lat: 50.6, lon: 8.7 } });
    await ingest.ok('POST', '/api/v1/rules', { preset: 'dwd-starkregen', scope: { deviceIds: ['rain-1'] } });
    web = await startSystem({ databaseUrl: ingest.config.databaseUrl, env: { ROLES: 'api', MQTT_PORT: 'off', MAP_TILES_URL: 'none' } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await ingest?.close();
  });

  it('the storm fires in the ingest process and shows on the board served by the api process, with its cue', async () => {
    const page = await newPage(await browser.newContext({ locale: 'de-DE' }));
    await logIn(page, web.httpUrl, 'leitstelle', PW);
    await expect.poll(() => page.locator('body').getAttribute('data-live')).toBe('1');
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const c = await ingest.mqttClient();
    await publish(c, 'devices/rain-1/up', { readings: { rain_mm: 27 } });
    c.end(true);
    const row = page.locator('#board tr[data-device="rain-1"]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getAttribute('data-severity')).toBe('severe');
    await expect.poll(() => page.locator('[data-station="rain-1"]').getAttribute('data-status')).toBe('severe');
    expect(await page.locator('body').getAttribute('data-cues')).toBe('1');
    // acknowledged through the other process's API: the board follows
    const id = (await ingest.ok('GET', '/api/v1/alarms')).items[0].id;
    await ingest.ok('POST', `/api/v1/alarms/${id}/ack`, { comment: 'übernommen' });
    await expect.poll(() => row.locator('.state').textContent()).toBe('quittiert');
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(page.problems).toEqual([]);
  });
});
