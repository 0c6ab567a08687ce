// [README.md Configuration] Configuration: validated at start, every problem listed at once, then exit code 2.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../test/helpers/env.ts';
import { ConfigError, loadConfig } from './config.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('lists every problem at once, each naming its variable', () => {
    const problems = problemsOf({
      HTTP_PORT: '99999',
      MQTT_PORT: 'eighteen',
      DATABASE_URL: 'mysql://db/regenwacht',
      SMS_PROVIDER: 'http',
      LOG_LEVEL: 'loud',
      ADMIN_TOKEN: 'short',
    });
    const joined = problems.join('\n');
    for (const v of ['HTTP_PORT', 'MQTT_PORT', 'DATABASE_URL', 'SMS_HTTP_URL', 'LOG_LEVEL', 'ADMIN_TOKEN']) expect(joined).toContain(v);
    expect(problems.length).toBeGreaterThanOrEqual(6);
    expect(problems.find((p) => p.startsWith('SMS_HTTP_URL'))).toMatch(/SMS_PROVIDER=http/);
    expect(problems.find((p) => p.startsWith('MQTT_PORT'))).toMatch(/0–65535 or off/);
  });

  it.each([
    [{ SMS_PROVIDER: 'twilio' }, ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']],
    [{ SMS_PROVIDER: 'seven' }, ['SEVEN_API_KEY']],
    [{ SMS_PROVIDER: 'carrier-pigeon' }, ['SMS_PROVIDER']],
    [{ HTTP_PORT: '-1' }, ['HTTP_PORT']],
    [{ HTTP_PORT: '80.5' }, ['HTTP_PORT']],
    [{ MQTT_PORT: '65536' }, ['MQTT_PORT']],
    [{ ROLES: 'api,frontend' }, ['ROLES']],
    [{ ROLES: ' , ' }, ['ROLES']],
    [{ UPSTREAM_MQTT_URL: 'http://broker' }, ['UPSTREAM_MQTT_URL']],
    [{ UPSTREAM_MQTT_URL: 'mqtt://b', UPSTREAM_SHARE_GROUP: 'a/b' }, ['UPSTREAM_SHARE_GROUP']],
    [{ PUBLIC_URL: 'not a url' }, ['PUBLIC_URL']],
  ])('refuses %o naming %o', (env, vars) => {
    const problems = problemsOf(env as Record<string, string>);
    for (const v of vars) expect(problems.some((p) => p.startsWith(v))).toBe(true);
  });

  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.bindHost).toBe('127.0.0.1');
    expect(c.httpPort).toBe(8080);
    expect(c.mqttPort).toBe(1883);
    expect(c.upstream).toBeUndefined();
    expect(c.adminToken).toBeUndefined();
    expect([...c.roles].sort()).toEqual(['api', 'broker', 'ingest', 'notifier', 'scheduler']);
    expect(c.logLevel).toBe('info');
    expect(c.publicUrl).toBe('http://127.0.0.1:8080'); // the API's own address
    expect(c.sms.provider).toBe('log');
    expect(c.sms.twilioBaseUrl).toBe('https://api.twilio.com');
    expect(c.sms.sevenBaseUrl).toBe('https://gateway.seven.io');
  });

  it('DWD inputs: both paths below DWD_OPENDATA_URL in the DWD layout, polled every DWD_POLL (default 2m)', () => {
    const d = loadConfig({}).dwd;
    expect(d.warnings).toMatchObject({
      mode: 'http',
      url: 'https://opendata.dwd.de/weather/alerts/cap/COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip',
      intervalMs: 120_000,
    });
    expect(d.radar).toMatchObject({ mode: 'http', url: 'https://opendata.dwd.de/weather/radar/composite/rv', intervalMs: 120_000 });
    const mirror = loadConfig({ DWD_OPENDATA_URL: 'http://127.0.0.1:8089/', DWD_POLL: '5s' }).dwd;
    expect(mirror.warnings.url).toBe(
      'http://127.0.0.1:8089/weather/alerts/cap/COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip',
    );
    expect(mirror.radar).toMatchObject({
      url: 'http://127.0.0.1:8089/weather/radar/composite/rv',
      binaryUrl: 'http://127.0.0.1:8089/weather/radar/composite/rv',
      intervalMs: 5000,
    });
    // off: nothing fetched; a drop folder is still read
    expect(loadConfig({ DWD_POLL: 'off' }).dwd).toMatchObject({ warnings: { mode: 'off' }, radar: { mode: 'off' } });
    expect(loadConfig({ DWD_POLL: 'off', DWD_CAP_DIR: 'dwd-drop' }).dwd).toMatchObject({
      warnings: { mode: 'folder', dir: path.resolve('dwd-drop'), intervalMs: 10_000 },
      radar: { mode: 'off' },
    });
    // the finer variables still override
    expect(loadConfig({ DWD_RADAR_URL: 'http://mirror/rv', DWD_RADAR_INTERVAL: '30s', DWD_WARNINGS: 'off' }).dwd).toMatchObject({
      warnings: { mode: 'off' },
      radar: { url: 'http://mirror/rv', binaryUrl: 'http://mirror/rv', intervalMs: 30_000 },
    });
    expect(() => loadConfig({ DWD_POLL: 'sometimes' })).toThrow(/DWD_POLL/);
    expect(() => loadConfig({ DWD_OPENDATA_URL: 'opendata.dwd.de' })).toThrow(/DWD_OPENDATA_URL/);
  });

  it('treats empty strings as unset (docker-compose `FOO=`)', () => {
    const c = loadConfig({ HTTP_PORT: '', DATABASE_URL: '', MQTT_PORT: '' });
    expect(c.httpPort).toBe(8080);
    expect(c.mqttPort).toBe(1883);
    expect(c.databaseUrl).toBeUndefined();
  });

  it('MQTT_PORT=off turns the broker off, 0 means any free port', () => {
    expect(loadConfig({ MQTT_PORT: 'off' }).mqttPort).toBe('off');
    expect(loadConfig({ MQTT_PORT: '0' }).mqttPort).toBe(0);
    expect(loadConfig({ HTTP_PORT: '0' }).httpPort).toBe(0);
  });

  it('embedded broker limits: 256 KiB packets, CONNECT within 10 s, 64 unauthenticated sockets per address, 4096 publishes (16 MiB) read and unacknowledged, 64 per connection by default', () => {
    expect(loadConfig({}).mqtt).toEqual({
      maxPacketBytes: 262_144,
      connectTimeoutMs: 10_000,
      maxPendingPerAddress: 64,
      maxUnacked: 4096,
      maxUnackedBytes: 16_777_216,
      maxUnackedPerClient: 64,
    });
    expect(loadConfig({ MQTT_MAX_PACKET_BYTES: '65536', MQTT_CONNECT_TIMEOUT: '500ms', MQTT_MAX_PENDING_PER_ADDRESS: '2' }).mqtt).toMatchObject({
      maxPacketBytes: 65_536,
      connectTimeoutMs: 500,
      maxPendingPerAddress: 2,
    });
    expect(loadConfig({ MQTT_MAX_UNACKED: '100', MQTT_MAX_UNACKED_BYTES: '65536', MQTT_MAX_UNACKED_PER_CLIENT: '4' }).mqtt).toMatchObject({
      maxUnacked: 100,
      maxUnackedBytes: 65_536,
      maxUnackedPerClient: 4,
    });
    expect(loadConfig({ MQTT_CONNECT_TIMEOUT: '30s' }).mqtt.connectTimeoutMs).toBe(30_000);
    const problems = (() => {
      try {
        loadConfig({ MQTT_MAX_PACKET_BYTES: '1e9', MQTT_CONNECT_TIMEOUT: 'soon', MQTT_MAX_PENDING_PER_ADDRESS: '0' });
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    })();
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['MQTT_CONNECT_TIMEOUT', 'MQTT_MAX_PACKET_BYTES', 'MQTT_MAX_PENDING_PER_ADDRESS']);
  });

  it('WEBHOOK_ALLOW_NETS takes networks (none by default) and names a malformed one; HTTP_RATE_LIMIT a count a minute', () => {
    expect(loadConfig({}).webhookAllowNets).toEqual([]);
    expect(loadConfig({}).httpRateLimit).toBe(3000);
    expect(loadConfig({ WEBHOOK_ALLOW_NETS: '10.20.0.0/16, fd00:20::/64,192.168.5.7' }).webhookAllowNets).toEqual([
      '10.20.0.0/16',
      'fd00:20::/64',
      '192.168.5.7',
    ]);
    const problems = problemsOf({ WEBHOOK_ALLOW_NETS: '10.20.0.0/33,leitstelle.local', HTTP_RATE_LIMIT: 'viele' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['HTTP_RATE_LIMIT', 'WEBHOOK_ALLOW_NETS.0', 'WEBHOOK_ALLOW_NETS.1']);
  });

  it('HTTP_MAX_CONNECTIONS_PER_ADDRESS is a count (256 by default, 0 = no cap); HTTP_HEADERS_TIMEOUT a duration (20 s)', () => {
    expect([loadConfig({}).httpMaxConnectionsPerAddress, loadConfig({}).httpHeadersTimeoutS]).toEqual([256, 20]);
    expect(loadConfig({ HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0', HTTP_HEADERS_TIMEOUT: '1m' })).toMatchObject({
      httpMaxConnectionsPerAddress: 0,
      httpHeadersTimeoutS: 60,
    });
    const problems = problemsOf({ HTTP_MAX_CONNECTIONS_PER_ADDRESS: 'viele', HTTP_HEADERS_TIMEOUT: '0s' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['HTTP_HEADERS_TIMEOUT', 'HTTP_MAX_CONNECTIONS_PER_ADDRESS']);
  });

  it('CAP_ARS maps municipalities to their 12-digit Regionalschlüssel and names a malformed entry', () => {
    expect(loadConfig({}).capArs).toEqual({});
    expect(loadConfig({ CAP_ARS: 'giessen=065310005005, default=065320023023' }).capArs).toEqual({ giessen: '065310005005', default: '065320023023' });
    const problems = problemsOf({ CAP_ARS: 'giessen=06531000,wetzlar' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['CAP_ARS.0', 'CAP_ARS.1']);
  });

  it('e-mail: SMTP_URL needs a sender (MAIL_FROM or SMTP_FROM); SMS_PROVIDERS sets the failover order and needs each provider’s keys [issue 16]', () => {
    expect(loadConfig({}).mail).toBeUndefined();
    expect(loadConfig({ SMTP_URL: 'smtp://u:p@mail.example:587', MAIL_FROM: 'Regenwacht <alarm@kreis.example>' }).mail).toEqual({
      url: 'smtp://u:p@mail.example:587',
      from: 'Regenwacht <alarm@kreis.example>',
    });
    expect(loadConfig({ SMTP_URL: 'smtps://mail.example', SMTP_FROM: 'alarm@kreis.example' }).mail?.from).toBe('alarm@kreis.example');
    expect(problemsOf({ SMTP_URL: 'smtp://mail.example' }).map((p) => p.split(':')[0])).toEqual(['MAIL_FROM']);
    expect(
      problemsOf({ SMTP_URL: 'http://mail.example', MAIL_FROM: 'kein Absender' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['MAIL_FROM', 'SMTP_URL']);
    const c = loadConfig({
      SMS_PROVIDER: 'seven',
      SEVEN_API_KEY: 'k',
      SMS_PROVIDERS: 'seven, twilio',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 't',
      TWILIO_FROM: '+49',
    });
    expect(c.sms.providers).toEqual(['seven', 'twilio']);
    expect(c.sms.deliveryTimeoutMs).toBe(120_000);
    expect(loadConfig({}).sms.providers).toEqual(['log']);
    expect(
      problemsOf({ SMS_PROVIDER: 'seven', SEVEN_API_KEY: 'k', SMS_PROVIDERS: 'seven,twilio' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']);
    expect(problemsOf({ SMS_DELIVERY_TIMEOUT: '2h' }).map((p) => p.split(':')[0])).toEqual(['SMS_DELIVERY_TIMEOUT']);
  });

  it('parses ROLES as a comma list; "all" means every role', () => {
    expect([...loadConfig({ ROLES: 'api, ingest' }).roles].sort()).toEqual(['api', 'ingest']);
    expect([...loadConfig({ ROLES: 'broker,ingest,broker' }).roles].sort()).toEqual(['broker', 'ingest']);
    expect(loadConfig({ ROLES: 'all' }).roles.size).toBe(5);
    expect(loadConfig({ ROLES: 'scheduler,all' }).roles.size).toBe(5);
  });

  it('accepts a complete, valid configuration', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/rw',
      UPSTREAM_MQTT_URL: 'mqtts://cs.example:8883',
      UPSTREAM_MQTT_USERNAME: 'u',
      UPSTREAM_MQTT_PASSWORD: 'p',
      UPSTREAM_SHARE_GROUP: 'rw-1',
      SMS_PROVIDER: 'http',
      SMS_HTTP_URL: 'https://sms.example/send',
      PUBLIC_URL: 'https://warn.example/',
    });
    expect(c.databaseUrl).toBe('postgresql://u:p@db:5432/rw');
    expect(c.upstream).toEqual({ url: 'mqtts://cs.example:8883', username: 'u', password: 'p', shareGroup: 'rw-1' });
    expect(c.publicUrl).toBe('https://warn.example'); // no trailing slash, links are built by appending
  });

  it('is frozen, deeply', () => {
    const c = loadConfig({ SMS_PROVIDER: 'http', SMS_HTTP_URL: 'http://x/' }) as unknown as Record<string, any>;
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.sms)).toBe(true);
    expect(() => {
      c.httpPort = 1;
    }).toThrow(TypeError);
    expect(() => {
      c.sms.httpUrl = 'http://evil/';
    }).toThrow(TypeError);
  });
});

function run(env: Record<string, string>, timeoutMs = 40_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(TSX, ['services/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TMPDIR: os.tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`npm start did not exit within ${timeoutMs} ms\n${out}\n${err}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

describe('npm start', () => {
  it('exits with code 2 and prints every configuration problem', async () => {
    const r = await run({ HTTP_PORT: 'http', MQTT_PORT: 'seventy', DATABASE_URL: 'mysql://x/y', SMS_PROVIDER: 'http', LOG_LEVEL: 'loud' });
    expect(r.code).toBe(2);
    for (const v of ['HTTP_PORT', 'MQTT_PORT', 'DATABASE_URL', 'SMS_HTTP_URL', 'LOG_LEVEL']) expect(r.err).toContain(v);
  });

  it('says which MQTT port is taken and how to choose another', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-cfg-'));
    try {
      const r = await run({ DATA_DIR: dataDir, HTTP_PORT: '0', MQTT_PORT: String(port), ADMIN_TOKEN: 'x'.repeat(32), LOG_LEVEL: 'warn' });
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.err).toContain(String(port));
      expect(r.err).toContain('MQTT_PORT');
      expect(r.err).toMatch(/in use/);
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
