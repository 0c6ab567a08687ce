// Webhook targets and SSRF (issue 11): a municipality's token may not point a webhook at the installation's
// own network, unless the installation allows that network (WEBHOOK_ALLOW_NETS, the Leitstelle case); the
// check runs when the route is saved and again at every delivery. Installation-wide admins may reach the
// local network but never link-local / cloud-metadata addresses. Viewers see a delivery's status, not the
// receiver's answer.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../../services/notify/test-server.ts';
import { receiver, webhook } from '../helpers/alarms.ts';
import { freshPgDatabase } from '../helpers/env.ts';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const rule = {
  name: 'Pegel hoch',
  kind: 'threshold',
  metric: 'level_cm',
  scope: { tags: { river: 'lahn' } },
  levels: [{ severity: 'severe', threshold: 100 }],
  clear: { hysteresis: 0, for: '0m' },
};

let db: Awaited<ReturnType<typeof freshPgDatabase>>;
// without PostgreSQL: the embedded store in a directory both starts share
let dataDir: string | undefined;
let s: TestSystem;
let hook: Awaited<ReturnType<typeof receiver>>;
let gi: string;
const asGi = (m: string, p: string, body?: unknown) => s.api(m, p, body, gi);

async function fire(deviceId: string) {
  const c = await s.mqttClient();
  await publish(c, `devices/${deviceId}/up`, { readings: { level_cm: 150 } });
  c.end(true);
  return waitFor(
    async () => {
      await s.alerting!.settle();
      return (await s.ok('GET', `/api/v1/alarms?deviceId=${deviceId}`)).items[0];
    },
    8000,
    `an alarm for ${deviceId}`,
  );
}

beforeAll(async () => {
  db = await freshPgDatabase();
  if (!db) dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-egress-'));
  hook = await receiver();
  // the Leitstelle's receiver sits on a network the installation allows its municipalities to reach
  s = await startSystem({ databaseUrl: db?.url, dataDir, env: { WEBHOOK_ALLOW_NETS: '127.0.0.0/8' } });
  gi = (await s.ok('POST', '/api/v1/tokens', { name: 'gi-admin', role: 'admin', org: 'giessen' })).token;
  expect((await asGi('POST', '/api/v1/devices', { id: 'gi-1', name: 'Pegel 1', model: 'generic', tags: { river: 'lahn' } })).status).toBe(201);
  expect((await asGi('POST', '/api/v1/rules', rule)).status).toBe(201);
});
afterAll(async () => {
  await s?.close();
  await hook?.close();
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('with WEBHOOK_ALLOW_NETS=127.0.0.0/8', () => {
  it("a municipality's webhook to an allowed network is saved and delivered", async () => {
    const r = await asGi('POST', '/api/v1/routes', { name: 'Leitstelle', targets: [webhook(hook.url)] });
    expect(r.status).toBe(201);
    await fire('gi-1');
    await hook.waitRequests(1);
  });

  it('other private networks and metadata stay closed to it', async () => {
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/latest/meta-data/']) {
      expect((await asGi('POST', '/api/v1/routes', { name: 'x', targets: [webhook(url)] })).status, url).toBe(400);
    }
  });
});

describe('after the installation removes the network from WEBHOOK_ALLOW_NETS', () => {
  beforeAll(async () => {
    await s.close();
    s = await startSystem({ databaseUrl: db?.url, dataDir, env: {} });
  });

  it.each([
    ['loopback', 'http://127.0.0.1:9000/hook'],
    ['loopback by name', 'http://localhost:9000/hook'],
    ['loopback as a decimal number', 'http://2130706433/hook'],
    ['loopback in hex', 'http://0x7f.0.0.1/hook'],
    ['IPv6 loopback', 'http://[::1]:9000/hook'],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/hook'],
    ['the unspecified address', 'http://0.0.0.0:9000/hook'],
    ['10/8', 'http://10.1.2.3/hook'],
    ['172.16/12', 'http://172.20.0.5/hook'],
    ['192.168/16', 'https://192.168.178.1/hook'],
    ['link-local / cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 unique local', 'http://[fd00::1]/hook'],
  ])("a municipality's webhook to %s is refused at save (400, naming the field)", async (_what, url) => {
    const r = await asGi('POST', '/api/v1/routes', {
      name: 'x',
      targets: [{ type: 'sms', to: '+491701234567' }],
      escalate: { after: '10m', targets: [webhook(url)] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(r.body.error.details[0].path).toBe('body.escalate.targets.0.url');
    expect(r.body.error.message).toMatch(/not allowed/);
  });

  it('a public address is fine', async () => {
    expect((await asGi('POST', '/api/v1/routes', { name: 'extern', targets: [webhook('https://93.184.215.14/hook')], enabled: false })).status).toBe(201);
  });

  it('the route saved while it was allowed is refused at delivery, visibly, and the receiver hears nothing', async () => {
    const before = hook.requests.length;
    await asGi('POST', '/api/v1/devices', { id: 'gi-2', name: 'Pegel 2', model: 'generic', tags: { river: 'lahn' } });
    const a = await fire('gi-2');
    const n = await waitFor(
      async () => {
        const v = (await asGi('GET', `/api/v1/alarms/${a.id}`)).body;
        return v.notifications?.find((x: { state: string }) => x.state === 'failed');
      },
      8000,
      'a failed notification',
    );
    expect(n.lastError).toMatch(/webhook target not allowed: 127\.0\.0\.1: a loopback/);
    expect(hook.requests.length).toBe(before);
  });

  it('an installation-wide admin may target the local network, but never metadata', async () => {
    expect((await s.api('POST', '/api/v1/routes', { name: 'lokal', targets: [webhook('http://127.0.0.1:9/hook')], enabled: false })).status).toBe(201);
    const r = await s.api('POST', '/api/v1/routes', { name: 'meta', targets: [webhook('http://169.254.169.254/latest/meta-data/')] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/link-local or cloud-metadata/);
  });
});

describe('delivery attempts', () => {
  let chatty: TestServer;
  afterAll(() => chatty?.close());

  it("show the receiver's status to a viewer, never its response body", async () => {
    chatty = await startServer((_req, res: ServerResponse) => json(res, 400, { error: 'db password is hunter2, stack at /srv/leitstelle/app.js:42' }));
    const routes = (await s.ok('GET', '/api/v1/routes')).items as { id: string }[];
    for (const r of routes) await s.ok('DELETE', `/api/v1/routes/${r.id}`);
    await s.ok('POST', '/api/v1/routes', { name: 'geschwätzig', org: 'giessen', targets: [webhook(chatty.url)] });
    await s.ok('POST', '/api/v1/devices', { id: 'gi-3', name: 'Pegel 3', model: 'generic', org: 'giessen', tags: { river: 'lahn' } });
    const a = await fire('gi-3');
    const viewer = (await s.ok('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).token;
    const n = await waitFor(
      async () => {
        const v = (await s.api('GET', `/api/v1/alarms/${a.id}`, undefined, viewer)).body;
        return v.notifications?.find((x: { state: string }) => x.state === 'failed');
      },
      8000,
      'the failed delivery',
    );
    expect(n.attempts[0]).toMatchObject({ ok: false, status: 400, error: 'HTTP 400' });
    expect(JSON.stringify(n)).not.toMatch(/hunter2|leitstelle\/app/);
  });
});
