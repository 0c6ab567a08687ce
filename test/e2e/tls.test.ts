// [issue 18] The edge over TLS: MQTTS with a test CA (passwords or client certificates by CN), a wrong
// certificate refused, a revoked one refused (TLS_CRL_FILE), TLS below 1.2 refused, renewed certificate files served without a restart, MQTT over
// WebSockets at /mqtt acknowledged after commit, and an upstream subscription over mqtts:// with a CA file.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, startSystem, type TestSystem, waitFor } from '../helpers/system.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-tls-'));
const f = (n: string) => path.join(dir, n);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

/** A CA, and a certificate it signs (a server's for 127.0.0.1, or a device's with its CN). */
function makeCa(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    f(`${name}.key`),
    '-out',
    f(`${name}.crt`),
  );
}
function makeCert(name: string, cn: string, ca: string, server: boolean) {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    f(`${name}.key`),
    '-out',
    f(`${name}.csr`),
  );
  const ext = f(`${name}.ext`);
  fs.writeFileSync(ext, server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    f(`${ca}.crt`),
    '-CAkey',
    f(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    f(`${name}.crt`),
  );
}

/** The CA's revocation list, made with `openssl ca` as an operator would; written atomically (renamed into place). */
function writeCrl(revoke?: string) {
  if (!fs.existsSync(f('ca.cnf'))) {
    fs.writeFileSync(
      f('ca.cnf'),
      `[ca]\ndefault_ca = c\n[c]\ndatabase = ${f('index.txt')}\ncrlnumber = ${f('crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 2\n`,
    );
    fs.writeFileSync(f('index.txt'), '');
    fs.writeFileSync(f('crlnumber'), '01\n');
  }
  const ca = ['-config', f('ca.cnf'), '-keyfile', f('ca.key'), '-cert', f('ca.crt')];
  if (revoke) openssl('ca', ...ca, '-revoke', f(`${revoke}.crt`));
  openssl('ca', ...ca, '-gencrl', '-out', f('ca.crl.new'));
  fs.renameSync(f('ca.crl.new'), f('ca.crl'));
}

const connect = (url: string, o: IClientOptions) =>
  new Promise<MqttClient>((res, rej) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
    c.once('connect', () => res(c));
    c.once('error', (e) => {
      c.end(true);
      rej(e);
    });
    c.once('close', () => rej(new Error('connection closed before CONNACK')));
  });

describe('MQTT at the edge: TLS and WebSockets', () => {
  let sys: TestSystem;
  let device: { username: string; password: string };
  const certUser = `gw-cert-${crypto.randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    makeCa('ca');
    makeCa('rogue');
    makeCert('server', 'localhost', 'ca', true);
    makeCert('device', certUser, 'ca', false);
    makeCert('impostor', certUser, 'rogue', false);
    makeCert('lost', certUser, 'ca', false); // a second certificate of the same gateway, lost later on
    writeCrl();
    sys = await startSystem({
      env: { MQTTS_PORT: '0', TLS_CERT_FILE: f('server.crt'), TLS_KEY_FILE: f('server.key'), TLS_CA_FILE: f('ca.crt'), TLS_CRL_FILE: f('ca.crl') },
    });
    await sys.ok('POST', '/api/v1/devices', { id: 'tls-1', name: 'Pegel TLS', model: 'generic' });
    device = await sys.ok('POST', '/api/v1/mqtt-credentials', { username: 'gw-tls', publish: ['devices/tls-1/up'] });
    await sys.ok('POST', '/api/v1/mqtt-credentials', { username: certUser, publish: ['devices/tls-1/up'] });
  }, 60_000);
  afterAll(async () => {
    await sys?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (t: number) => {
    const q = `/api/v1/devices/tls-1/readings?metric=level_cm&from=${new Date(t - 1).toISOString()}&to=${new Date(t + 1).toISOString()}`;
    return (await sys.ok('GET', q)).points as { value: number }[];
  };

  it('a device logs in over mqtts:// with its password and the test CA; its uplink is stored', async () => {
    expect(sys.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const c = await connect(sys.mqttsUrl!, { username: device.username, password: device.password, ca: fs.readFileSync(f('ca.crt')) });
    const t = Date.now() - 60_000;
    await publish(c, 'devices/tls-1/up', { time: new Date(t).toISOString(), readings: { level_cm: 11 } });
    c.end(true);
    expect(await stored(t)).toEqual([expect.objectContaining({ value: 11 })]);
  });

  it('a device logs in by its client certificate (CN = credential) without a password', async () => {
    const c = await connect(sys.mqttsUrl!, { ca: fs.readFileSync(f('ca.crt')), cert: fs.readFileSync(f('device.crt')), key: fs.readFileSync(f('device.key')) });
    const t = Date.now() - 50_000;
    await publish(c, 'devices/tls-1/up', { time: new Date(t).toISOString(), readings: { level_cm: 12 } });
    c.end(true);
    expect(await stored(t)).toEqual([expect.objectContaining({ value: 12 })]);
  });

  it('a certificate of another CA with the same CN is refused, and so is TLS 1.1', async () => {
    const ca = fs.readFileSync(f('ca.crt'));
    await expect(connect(sys.mqttsUrl!, { ca, cert: fs.readFileSync(f('impostor.crt')), key: fs.readFileSync(f('impostor.key')) })).rejects.toThrow();
    // a client certificate does not stand in for a password of another credential
    await expect(
      connect(sys.mqttsUrl!, { username: device.username, ca, cert: fs.readFileSync(f('device.crt')), key: fs.readFileSync(f('device.key')) }),
    ).rejects.toThrow();
    const port = Number(new URL(sys.mqttsUrl!).port);
    const old = await new Promise<string>((res) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => res(`connected with ${s.getProtocol()}`));
      s.once('error', (e) => res(`refused: ${e.message}`));
    });
    expect(old).toMatch(/^refused/);
  });

  it('a revoked device certificate is refused once the revocation list names it (re-read without a restart); the others still log in', async () => {
    const ca = fs.readFileSync(f('ca.crt'));
    const as = (name: string) => connect(sys.mqttsUrl!, { ca, cert: fs.readFileSync(f(`${name}.crt`)), key: fs.readFileSync(f(`${name}.key`)) });
    (await as('lost')).end(true);
    writeCrl('lost');
    await waitFor(
      () =>
        as('lost').then(
          (c) => void c.end(true),
          () => true,
        ),
      8000,
      'the revoked certificate refused',
    );
    await expect(as('lost')).rejects.toThrow();
    const c = await as('device');
    const t = Date.now() - 45_000;
    await publish(c, 'devices/tls-1/up', { time: new Date(t).toISOString(), readings: { level_cm: 15 } });
    c.end(true);
    expect(await stored(t)).toEqual([expect.objectContaining({ value: 15 })]);
  });

  it('renewed certificate files are served to new connections without a restart', async () => {
    const fingerprint = () =>
      new Promise<string>((res, rej) => {
        const s = tls.connect({ host: '127.0.0.1', port: Number(new URL(sys.mqttsUrl!).port), ca: fs.readFileSync(f('ca.crt')) }, () => {
          res(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        });
        s.once('error', rej);
      });
    const before = await fingerprint();
    makeCert('renewed', 'localhost', 'ca', true);
    // written the way certbot's deploy hooks do: key and certificate replaced
    fs.copyFileSync(f('renewed.key'), f('server.key'));
    fs.copyFileSync(f('renewed.crt'), f('server.crt'));
    const expected = new crypto.X509Certificate(fs.readFileSync(f('renewed.crt'))).fingerprint256;
    expect(expected).not.toBe(before);
    await waitFor(async () => (await fingerprint()) === expected, 8000, 'the renewed certificate served');
  });

  it('MQTT over WebSockets at /mqtt on the HTTP port: the PUBACK comes after the reading is stored', async () => {
    const c = await connect(`${sys.httpUrl.replace('http', 'ws')}/mqtt`, { username: device.username, password: device.password });
    const t = Date.now() - 40_000;
    await publish(c, 'devices/tls-1/up', { time: new Date(t).toISOString(), readings: { level_cm: 13 } });
    // no waiting: acknowledged means stored
    expect(await stored(t)).toEqual([expect.objectContaining({ value: 13 })]);
    c.end(true);
    await expect(connect(`${sys.httpUrl.replace('http', 'ws')}/mqtt`, { username: device.username, password: 'wrong' })).rejects.toThrow();
    const other = await fetch(`${sys.httpUrl}/not-mqtt`, { headers: { connection: 'upgrade', upgrade: 'websocket' } }).catch((e: Error) => e);
    expect(other instanceof Error || other.status === 404).toBe(true);
  });

  it('an upstream subscription over mqtts:// trusts the broker through UPSTREAM_TLS_CA_FILE', async () => {
    const sub = await sys.ok('POST', '/api/v1/mqtt-credentials', { username: 'ns-tls', publish: ['devices/tls-1/up'], subscribe: ['devices/+/up'] });
    const follower = await startSystem({
      env: {
        MQTT_PORT: 'off',
        UPSTREAM_MQTT_URL: sys.mqttsUrl!,
        UPSTREAM_MQTT_USERNAME: sub.username,
        UPSTREAM_MQTT_PASSWORD: sub.password,
        UPSTREAM_TLS_CA_FILE: f('ca.crt'),
      },
    });
    try {
      await follower.ok('POST', '/api/v1/devices', { id: 'tls-1', name: 'Pegel TLS', model: 'generic' });
      await waitFor(async () => (await fetch(`${follower.httpUrl}/readyz`)).status === 200, 10_000, 'follower connected over TLS');
      const c = await connect(sys.mqttsUrl!, { username: device.username, password: device.password, ca: fs.readFileSync(f('ca.crt')) });
      const t = Date.now() - 30_000;
      await publish(c, 'devices/tls-1/up', { time: new Date(t).toISOString(), readings: { level_cm: 14 } });
      c.end(true);
      const q = `/api/v1/devices/tls-1/readings?metric=level_cm&from=${new Date(t - 1).toISOString()}&to=${new Date(t + 1).toISOString()}`;
      await waitFor(async () => (await follower.ok('GET', q)).points.length === 1, 10_000, 'the uplink stored by the follower');
    } finally {
      await follower.close();
    }
  }, 40_000);
});
