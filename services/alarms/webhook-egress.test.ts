// DNS rebinding: the name resolved to a public address when it was checked, and to loopback when the
// delivery connects. The connection's own lookup is checked, so nothing reaches the local receiver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../notify/test-server.ts';
import { classify, WebhookEgress } from './webhook-egress.ts';

let srv: TestServer;
const publicLookup = (async () => [{ address: '93.184.215.14', family: 4 }]) as never;
beforeAll(async () => {
  srv = await startServer((_req, res) => json(res, 200, { ok: true }));
});
afterAll(() => srv?.close());

describe('webhook egress', () => {
  it.each([
    ['127.0.0.1', 'private'],
    ['::1', 'private'],
    ['10.9.8.7', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.0.1', 'private'],
    ['0.0.0.0', 'private'],
    ['fc00::1', 'private'],
    ['fdab::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'private'],
    ['2002:c0a8:101::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fd00:ec2::254', 'link-local'],
    ['8.8.8.8', 'public'],
    ['2a00:1450:4001::1', 'public'],
  ])('%s is %s', (ip, cls) => {
    expect(classify(ip)).toBe(cls);
  });

  it('a name that passed the check but now resolves to loopback is refused when connecting', async () => {
    const url = `http://localhost:${new URL(srv.url).port}/hook`;
    const egress = new WebhookEgress([], publicLookup);
    try {
      expect(await egress.refuseUrl(url, 'municipality')).toBeUndefined();
      const err = await egress
        .fetchFor('municipality')(url, { method: 'POST', headers: {}, body: '{}' })
        .then(
          () => undefined,
          (e: Error & { cause?: { code?: string; message?: string } }) => e,
        );
      expect(err?.cause?.code).toBe('EGRESS_REFUSED');
      expect(err?.cause?.message).toMatch(/localhost resolves to 127\.0\.0\.1: a loopback/);
      expect(srv.requests).toHaveLength(0);
      // the installation's own routes may reach it
      expect((await egress.fetchFor('installation')(url, { method: 'POST', headers: {}, body: '{}' })).status).toBe(200);
      expect(srv.requests).toHaveLength(1);
    } finally {
      await egress.close();
    }
  });

  it('WEBHOOK_ALLOW_NETS opens a network to municipalities, never link-local', async () => {
    const egress = new WebhookEgress(['127.0.0.0/8', '169.254.0.0/16']);
    expect(egress.refuseAddress('127.0.0.1', 'municipality')).toBeUndefined();
    expect(egress.refuseAddress('::ffff:127.0.0.1', 'municipality')).toBeUndefined();
    expect(egress.refuseAddress('10.0.0.1', 'municipality')).toMatch(/private/);
    expect(egress.refuseAddress('169.254.169.254', 'municipality')).toMatch(/metadata/);
    expect(egress.refuseAddress('169.254.169.254', 'installation')).toMatch(/metadata/);
    await egress.close();
  });
});
