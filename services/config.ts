// The only place that reads process.env. Parsed once with zod, then frozen. [README.md Configuration]
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { warncellOfArs } from '../alerts/dwd/dwd-warnings.ts';
import { urlHost } from './start-checks.ts';

const ROLE_NAMES = ['broker', 'ingest', 'api', 'scheduler', 'notifier'] as const;
export type Role = (typeof ROLE_NAMES)[number];

const port = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a port number 0–65535`)
    .transform(Number)
    .refine((n) => n >= 0 && n <= 65535, `${name} must be a port number 0–65535`);

const optUrl = z.string().url().optional();

/** a whole number within [min, max] */
const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be a whole number between ${min} and ${max}`);

/** "90", "90s", "2m" → seconds, within [min, max]. */
const seconds = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(s|m)?$/, `${name} must be a duration like 30s or 2m`)
    .transform((s) => (s.endsWith('m') ? Number(s.slice(0, -1)) * 60 : Number(s.replace('s', ''))))
    .refine((n) => n >= min && n <= max, `${name} must be between ${min}s and ${max}s`);

/** "org=value,org=value" → { org: value }. */
const orgMap = (name: string, value: RegExp, example: string) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine((x) => /^[^=\s]+=/.test(x) && value.test(x.split('=')[1]), `${name}: each entry must be org=value with ${example}`)))
    .transform((xs) => Object.fromEntries(xs.map((x) => x.split('=') as [string, string])));

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port('HTTP_PORT').default(8080),
  MQTT_PORT: z
    .string()
    .regex(/^(off|\d+)$/, 'MQTT_PORT must be a port number 0–65535 or off')
    .transform((s) => (s === 'off' ? ('off' as const) : Number(s)))
    .refine((n) => n === 'off' || n <= 65535, 'MQTT_PORT must be a port number 0–65535 or off')
    .default(1883),
  MQTT_MAX_PACKET_BYTES: z
    .string()
    .regex(/^\d+$/, 'MQTT_MAX_PACKET_BYTES must be a number of bytes')
    .transform(Number)
    .refine((n) => n >= 1024 && n <= 268_435_455, 'MQTT_MAX_PACKET_BYTES must be 1024 … 268435455 (the MQTT maximum)')
    .default(262_144),
  MQTT_CONNECT_TIMEOUT: z
    .string()
    .regex(/^\d+(ms|s)$/, 'MQTT_CONNECT_TIMEOUT must be a duration like 10s or 500ms')
    .transform((s) => (s.endsWith('ms') ? Number(s.slice(0, -2)) : Number(s.slice(0, -1)) * 1000))
    .refine((n) => n >= 100 && n <= 600_000, 'MQTT_CONNECT_TIMEOUT must be between 100ms and 600s')
    .default(10_000),
  MQTT_MAX_PENDING_PER_ADDRESS: z
    .string()
    .regex(/^\d+$/, 'MQTT_MAX_PENDING_PER_ADDRESS must be a whole number ≥ 1')
    .transform(Number)
    .refine((n) => n >= 1, 'MQTT_MAX_PENDING_PER_ADDRESS must be a whole number ≥ 1')
    .default(64),
  // publishes read from the MQTT connections and not yet acknowledged: over all connections, their bytes, per
  // connection; past these a connection's socket is not read until its turn comes (TCP backpressure)
  MQTT_MAX_UNACKED: wholeNumber('MQTT_MAX_UNACKED', 1, 1_000_000).default(4096),
  MQTT_MAX_UNACKED_BYTES: wholeNumber('MQTT_MAX_UNACKED_BYTES', 1024, 4_294_967_296).default(16_777_216),
  MQTT_MAX_UNACKED_PER_CLIENT: wholeNumber('MQTT_MAX_UNACKED_PER_CLIENT', 1, 65_535).default(64),
  // uplinks worked on at once; past it new ones wait and their sockets are not read [docs/guarantees.md]
  INGEST_MAX_IN_FLIGHT: z
    .string()
    .regex(/^\d+$/, 'INGEST_MAX_IN_FLIGHT must be a whole number ≥ 1')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1_000_000, 'INGEST_MAX_IN_FLIGHT must be a whole number between 1 and 1000000')
    .default(4096),
  // PostgreSQL's shared_buffers of the embedded store, MB (PGlite's own default is 128) [docs/operations.md]
  EMBEDDED_SHARED_BUFFERS_MB: z
    .string()
    .regex(/^\d+$/, 'EMBEDDED_SHARED_BUFFERS_MB must be a whole number of megabytes')
    .transform(Number)
    .refine((n) => n >= 8 && n <= 999, 'EMBEDDED_SHARED_BUFFERS_MB must be between 8 and 999')
    .default(32),
  // readings older than this many days are removed: a TimescaleDB retention policy on TimescaleDB and the
  // embedded store, a job deleting in small batches on plain PostgreSQL; off keeps them [README.md Configuration]
  READINGS_RETENTION_DAYS: z
    .string()
    .regex(/^(off|\d+)$/, 'READINGS_RETENTION_DAYS must be a whole number of days or off')
    .transform((s) => (s === 'off' ? undefined : Number(s)))
    .refine((n) => n === undefined || (n >= 1 && n <= 36_500), 'READINGS_RETENTION_DAYS must be between 1 and 36500 days, or off')
    .optional(),
  UPSTREAM_MQTT_URL: z
    .string()
    .regex(/^(mqtts?|wss?|tcp):\/\//, 'UPSTREAM_MQTT_URL must be mqtt://, mqtts://, ws:// or wss://')
    .optional(),
  // TLS listener of the embedded broker; off unless a port is given [docs/security.md TLS]
  MQTTS_PORT: z
    .string()
    .regex(/^(off|\d+)$/, 'MQTTS_PORT must be a port number 0–65535 or off')
    .transform((s) => (s === 'off' ? ('off' as const) : Number(s)))
    .refine((n) => n === 'off' || n <= 65535, 'MQTTS_PORT must be a port number 0–65535 or off')
    .default('off'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_CA_FILE: z.string().optional(),
  /** PEM certificate revocation list(s) of TLS_CA_FILE's CA: a revoked device certificate is refused; re-read on change */
  TLS_CRL_FILE: z.string().optional(),
  MQTT_WEBSOCKET: z.enum(['on', 'off']).default('on'),
  UPSTREAM_TLS_CA_FILE: z.string().optional(),
  UPSTREAM_TLS_CERT_FILE: z.string().optional(),
  UPSTREAM_TLS_KEY_FILE: z.string().optional(),
  UPSTREAM_MQTT_USERNAME: z.string().optional(),
  UPSTREAM_MQTT_PASSWORD: z.string().optional(),
  UPSTREAM_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'UPSTREAM_SHARE_GROUP: letters, digits, _ and - only')
    .optional(),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  ROLES: z
    .string()
    .default('all')
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['all', ...ROLE_NAMES])).min(1, 'ROLES must name at least one role')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_URL: z.string().url().optional(),
  SMS_PROVIDER: z.enum(['log', 'http', 'twilio', 'seven']).default('log'),
  SMS_HTTP_URL: optUrl,
  SMS_HTTP_TOKEN: z.string().optional(),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_FROM: z.string().optional(),
  TWILIO_BASE_URL: z.string().url().default('https://api.twilio.com'),
  SEVEN_API_KEY: z.string().optional(),
  SEVEN_FROM: z.string().optional(),
  SEVEN_BASE_URL: z.string().url().default('https://gateway.seven.io'),
  // signing secret of the seven webhooks (delivery reports, replies): X-Signature is checked with it [issue 16]
  SEVEN_WEBHOOK_SECRET: z.string().min(8, 'SEVEN_WEBHOOK_SECRET must be at least 8 characters').optional(),
  // failover order: an SMS not delivered in time, or failed, goes out once more through the next one
  SMS_PROVIDERS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['log', 'http', 'twilio', 'seven'])).min(1, 'SMS_PROVIDERS must name at least one provider'))
    .optional(),
  SMS_DELIVERY_TIMEOUT: z
    .string()
    .regex(/^\d+(s|m)$/, 'SMS_DELIVERY_TIMEOUT must be a duration like 2m or 90s')
    .transform((s) => Number(s.slice(0, -1)) * (s.endsWith('m') ? 60_000 : 1000))
    .refine((n) => n >= 10_000 && n <= 3_600_000, 'SMS_DELIVERY_TIMEOUT must be between 10s and 60m')
    .default(120_000),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465')
    .optional(),
  MAIL_FROM: z.string().optional(),
  SMTP_FROM: z.string().optional(),
  // CAP feed: Restricted by default, since public warnings go out through the authorised MoWaS sender
  CAP_STATUS: z.enum(['Actual', 'Exercise', 'System', 'Test', 'Draft']).default('Actual'),
  CAP_SCOPE: z.enum(['Public', 'Restricted']).default('Restricted'),
  CAP_RESTRICTION: z.string().min(1).default('Nur für Leitstellen und Einsatzkräfte; öffentliche Warnungen gibt die zuständige Behörde über MoWaS heraus.'),
  // The municipality key (12-digit Amtlicher Regionalschlüssel) per org for CAP `area/geocode`:
  // "giessen=065310005005,wetzlar=065320023023" ('default' for devices without an org)
  CAP_ARS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^[^=\s]+=\d{12}$/, 'CAP_ARS: each entry must be org=ARS with the 12-digit Amtlicher Regionalschlüssel, e.g. giessen=065310005005'),
      ),
    )
    .transform((xs) => Object.fromEntries(xs.map((x) => x.split('=') as [string, string]))),
  // DWD inputs [docs/dwd.md]: the DWD open-data server (or a mirror / test server in its layout), from which the
  // CAP warnings and the radar nowcast (RV) paths are derived, polled every DWD_POLL (off: nothing fetched; a
  // drop folder DWD_CAP_DIR is still read). Fetching only happens for what is in use: warnings while a
  // municipality has a warncell, the radar while a catchment exists.
  DWD_OPENDATA_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'DWD_OPENDATA_URL must be an http(s) URL, e.g. https://opendata.dwd.de')
    .transform((u) => u.replace(/\/+$/, ''))
    .default('https://opendata.dwd.de'),
  DWD_POLL: z.union([z.literal('off'), seconds('DWD_POLL', 1, 3600)]).default(120),
  // finer overrides (optional): the mode per input, a full URL per input, an interval per input
  DWD_WARNINGS: z.enum(['off', 'http', 'folder']).optional(),
  DWD_CAP_URL: optUrl,
  DWD_CAP_DIR: z.string().min(1).optional(),
  DWD_CAP_INTERVAL: seconds('DWD_CAP_INTERVAL', 1, 3600).optional(),
  // org=warncell (9 digits); an org with a CAP_ARS gets 8 + its AGS without being listed; PUT /api/v1/orgs/{org} sets it too
  DWD_WARNCELLS: orgMap('DWD_WARNCELLS', /^\d{9}$/, 'the 9-digit DWD warncell id, e.g. giessen=806531005'),
  // the radar nowcast (RV) per catchment; the binary DE1200 files are the fallback when an HDF5 run is missing
  DWD_RADAR: z.enum(['off', 'http']).optional(),
  DWD_RADAR_URL: optUrl,
  DWD_RADAR_BINARY_URL: z
    .string()
    .regex(/^(none|https?:\/\/.+)$/, 'DWD_RADAR_BINARY_URL must be an http(s) folder URL or none')
    .optional(),
  DWD_RADAR_INTERVAL: seconds('DWD_RADAR_INTERVAL', 1, 600).optional(),
  // how far back (seconds) the worker looks for the newest run not yet processed; the DWD keeps about 2 days
  DWD_RADAR_LOOKBACK: seconds('DWD_RADAR_LOOKBACK', 300, 172_800).default(1800),
  DWD_FETCH_TIMEOUT: seconds('DWD_FETCH_TIMEOUT', 1, 300).default(20),
  DWD_FETCH_RETRIES: z.string().regex(/^\d$/, 'DWD_FETCH_RETRIES must be 0–9').transform(Number).default(2),
  MAP_TILES_URL: z
    .string()
    .regex(/^(none|https?:\/\/.+)$/, 'MAP_TILES_URL must be an http(s) tile URL with {z}/{x}/{y}, or none')
    .default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
  MAP_TILES_ATTRIBUTION: z.string().default('© OpenStreetMap contributors'),
  HTTP_RATE_LIMIT: z
    .string()
    .regex(/^\d+$/, 'HTTP_RATE_LIMIT must be a whole number of requests per minute')
    .transform(Number)
    .refine((n) => n >= 1, 'HTTP_RATE_LIMIT must be at least 1')
    .default(3000),
  // HTTP connections one client address may hold open at once (0 = no cap); behind a reverse proxy every
  // connection comes from the proxy's address [docs/operations.md]
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: wholeNumber('HTTP_MAX_CONNECTIONS_PER_ADDRESS', 0, 1_000_000).default(256),
  // a connection that has not sent a whole request head by then is answered 408 and closed
  HTTP_HEADERS_TIMEOUT: seconds('HTTP_HEADERS_TIMEOUT', 1, 600).default(20),
  /** anonymous open-data requests (SensorThings, downloads, catalogue, public CAP) per client address and minute */
  OPEN_DATA_RATE_LIMIT: z
    .string()
    .regex(/^\d+$/, 'OPEN_DATA_RATE_LIMIT must be a whole number of requests per minute')
    .transform(Number)
    .refine((n) => n >= 1, 'OPEN_DATA_RATE_LIMIT must be at least 1')
    .default(600),
  WEBHOOK_ALLOW_NETS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isCidr, 'WEBHOOK_ALLOW_NETS: each entry must be a network like 10.20.0.0/16 or fd00:1::/64'))),
});

/** `a.b.c.d/n` or `ipv6/n` (a bare address counts as /32 or /128). */
function isCidr(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  const v = net.isIP(addr);
  if (!v || rest.length) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128));
}

/** Cross-field requirements, checked on the raw environment so they are listed even when other fields are bad. */
function dependentProblems(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const need = (cond: boolean, keys: string[], why: string) => {
    if (cond) for (const k of keys) if (!env[k]) out.push(`${k}: ${k} is required ${why}`);
  };
  need(env.SMS_PROVIDER === 'http', ['SMS_HTTP_URL'], 'when SMS_PROVIDER=http');
  need(env.SMS_PROVIDER === 'twilio', ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'], 'when SMS_PROVIDER=twilio');
  need(env.SMS_PROVIDER === 'seven', ['SEVEN_API_KEY'], 'when SMS_PROVIDER=seven');
  need(!!env.MQTTS_PORT && env.MQTTS_PORT !== 'off', ['TLS_CERT_FILE', 'TLS_KEY_FILE'], 'when MQTTS_PORT is set');
  need(!!env.UPSTREAM_TLS_CERT_FILE, ['UPSTREAM_TLS_KEY_FILE'], 'with UPSTREAM_TLS_CERT_FILE');
  const chain = (env.SMS_PROVIDERS ?? '').split(',').map((x) => x.trim());
  need(chain.includes('http') && env.SMS_PROVIDER !== 'http', ['SMS_HTTP_URL'], 'when SMS_PROVIDERS names http');
  need(
    chain.includes('twilio') && env.SMS_PROVIDER !== 'twilio',
    ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'],
    'when SMS_PROVIDERS names twilio',
  );
  need(chain.includes('seven') && env.SMS_PROVIDER !== 'seven', ['SEVEN_API_KEY'], 'when SMS_PROVIDERS names seven');
  const from = env.MAIL_FROM ?? env.SMTP_FROM;
  if (env.SMTP_URL && !from) out.push('MAIL_FROM: MAIL_FROM (or SMTP_FROM) is required when SMTP_URL is set, e.g. "Regenwacht <alarm@kreis.example>"');
  if (from && !/<[^<>@\s]+@[^<>@\s]+>$|^[^<>@\s]+@[^<>@\s]+$/.test(from.trim()))
    out.push('MAIL_FROM: must be an address, optionally with a name: "Regenwacht <alarm@kreis.example>"');
  return out;
}

export interface Config {
  databaseUrl?: string;
  dataDir: string;
  bindHost: string;
  httpPort: number;
  mqttPort: number | 'off';
  /** embedded broker limits that hold before authentication */
  mqtt: {
    maxPacketBytes: number;
    connectTimeoutMs: number;
    maxPendingPerAddress: number;
    maxUnacked: number;
    maxUnackedBytes: number;
    maxUnackedPerClient: number;
  };
  /** uplinks worked on at once before new ones wait (backpressure) */
  ingestMaxInFlight: number;
  /** shared_buffers of the embedded store, MB */
  embeddedSharedBuffersMb: number;
  /** readings older than this many days are removed; undefined keeps them (READINGS_RETENTION_DAYS=off) */
  readingsRetentionDays?: number;
  /** TLS listener of the embedded broker (files re-read when they change); ca: client certificates accepted */
  mqtts?: { port: number; certFile: string; keyFile: string; caFile?: string; crlFile?: string };
  /** MQTT over WebSockets at /mqtt on the HTTP port (when this process runs the broker and the API) */
  mqttWebSocket: boolean;
  upstream?: {
    url: string;
    username?: string;
    password?: string;
    shareGroup?: string;
    tls?: { caFile?: string; certFile?: string; keyFile?: string };
  };
  adminToken?: string;
  roles: ReadonlySet<Role>;
  logLevel: string;
  publicUrl: string;
  /** requests per minute one client address may make to the HTTP API */
  httpRateLimit: number;
  /** HTTP connections one client address may hold open at once; 0 = no cap */
  httpMaxConnectionsPerAddress: number;
  /** seconds a connection may take to send a request head */
  httpHeadersTimeoutS: number;
  /** requests per minute one client address may make to the anonymous open-data endpoints */
  openDataRateLimit: number;
  /** networks a municipality's webhooks may reach besides public addresses (CIDR) */
  webhookAllowNets: readonly string[];
  cap: { status: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft'; scope: 'Public' | 'Restricted'; restriction: string };
  /** org → 12-digit ARS for CAP `geocode` */
  capArs: Readonly<Record<string, string>>;
  sms: {
    provider: 'log' | 'http' | 'twilio' | 'seven';
    httpUrl?: string;
    httpToken?: string;
    twilioAccountSid?: string;
    twilioAuthToken?: string;
    twilioFrom?: string;
    twilioBaseUrl: string;
    sevenApiKey?: string;
    sevenFrom?: string;
    sevenBaseUrl: string;
    sevenWebhookSecret?: string;
    /** failover order (SMS_PROVIDERS, else just SMS_PROVIDER) */
    providers: readonly ('log' | 'http' | 'twilio' | 'seven')[];
    /** how long a delivery report is awaited before the next provider is tried */
    deliveryTimeoutMs: number;
  };
  /** e-mail channel; absent without SMTP_URL */
  mail?: { url: string; from: string };
  dwd: DwdConfig;
  /** console map background; url null: no tiles (stations and municipality outlines only) */
  mapTiles: { url: string | null; attribution: string };
}

/** The DWD's own layout below DWD_OPENDATA_URL. [docs/dwd.md] */
export const DWD_CAP_PATH = '/weather/alerts/cap/COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_DE.zip';
export const DWD_RV_PATH = '/weather/radar/composite/rv';
const FOLDER_LOOK_S = 10;

function dwdInputs(e: z.infer<typeof schema>): DwdConfig {
  const poll = e.DWD_POLL === 'off' ? null : e.DWD_POLL;
  const base = e.DWD_OPENDATA_URL;
  const binary = e.DWD_RADAR_BINARY_URL ?? e.DWD_RADAR_URL ?? base + DWD_RV_PATH;
  const capMode = e.DWD_WARNINGS ?? (e.DWD_CAP_DIR ? 'folder' : poll === null ? 'off' : 'http');
  // a drop folder is local and cheap to look at: every 10 s (or DWD_POLL when shorter), also with DWD_POLL=off
  const capDefault = capMode === 'folder' ? Math.min(poll ?? FOLDER_LOOK_S, FOLDER_LOOK_S) : (poll ?? 120);
  return {
    warnings: {
      mode: capMode,
      url: e.DWD_CAP_URL ?? base + DWD_CAP_PATH,
      dir: path.resolve(e.DWD_CAP_DIR ?? path.join(e.DATA_DIR, 'dwd-cap')),
      intervalMs: (e.DWD_CAP_INTERVAL ?? capDefault) * 1000,
    },
    radar: {
      mode: e.DWD_RADAR ?? (poll === null ? 'off' : 'http'),
      url: e.DWD_RADAR_URL ?? base + DWD_RV_PATH,
      binaryUrl: binary === 'none' ? '' : binary,
      intervalMs: (e.DWD_RADAR_INTERVAL ?? poll ?? 120) * 1000,
      lookbackMs: e.DWD_RADAR_LOOKBACK * 1000,
    },
    warncells: { ...Object.fromEntries(Object.entries(e.CAP_ARS).map(([org, ars]) => [org, warncellOfArs(ars)])), ...e.DWD_WARNCELLS },
    fetch: { timeoutMs: e.DWD_FETCH_TIMEOUT * 1000, retries: e.DWD_FETCH_RETRIES, backoffMs: 1000 },
  };
}

/** DWD inputs. [docs/dwd.md] */
export interface DwdConfig {
  warnings: { mode: 'off' | 'http' | 'folder'; url: string; dir: string; intervalMs: number };
  radar: { mode: 'off' | 'http'; url: string; binaryUrl: string; intervalMs: number; lookbackMs: number };
  /** org → warncell: DWD_WARNCELLS, else 8 + the AGS of the org's CAP_ARS */
  warncells: Readonly<Record<string, string>>;
  fetch: { timeoutMs: number; retries: number; backoffMs: number };
}

export class ConfigError extends Error {
  /** its code in the error catalogue (services/errors.ts, docs/errors.md) */
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  // Empty strings mean "unset", as in docker-compose files with `FOO=`.
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(clean);
  // zod skips refinements once a field failed, so cross-field problems are collected separately: all at once. [README.md Configuration]
  const problems = [...(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`)), ...dependentProblems(clean)];
  if (!r.success || problems.length) throw new ConfigError(problems);
  const e = r.data;
  const roles = new Set<Role>(e.ROLES.includes('all') ? ROLE_NAMES : (e.ROLES as Role[]));
  const cfg: Config = {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    bindHost: e.BIND_HOST,
    httpPort: e.HTTP_PORT,
    mqttPort: e.MQTT_PORT,
    mqtt: {
      maxPacketBytes: e.MQTT_MAX_PACKET_BYTES,
      connectTimeoutMs: e.MQTT_CONNECT_TIMEOUT,
      maxPendingPerAddress: e.MQTT_MAX_PENDING_PER_ADDRESS,
      maxUnacked: e.MQTT_MAX_UNACKED,
      maxUnackedBytes: e.MQTT_MAX_UNACKED_BYTES,
      maxUnackedPerClient: e.MQTT_MAX_UNACKED_PER_CLIENT,
    },
    ingestMaxInFlight: e.INGEST_MAX_IN_FLIGHT,
    embeddedSharedBuffersMb: e.EMBEDDED_SHARED_BUFFERS_MB,
    readingsRetentionDays: e.READINGS_RETENTION_DAYS,
    mqtts:
      e.MQTTS_PORT !== 'off' && e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? {
            port: e.MQTTS_PORT,
            certFile: path.resolve(e.TLS_CERT_FILE),
            keyFile: path.resolve(e.TLS_KEY_FILE),
            caFile: e.TLS_CA_FILE && path.resolve(e.TLS_CA_FILE),
            crlFile: e.TLS_CRL_FILE && path.resolve(e.TLS_CRL_FILE),
          }
        : undefined,
    mqttWebSocket: e.MQTT_WEBSOCKET === 'on',
    upstream: e.UPSTREAM_MQTT_URL
      ? {
          url: e.UPSTREAM_MQTT_URL,
          username: e.UPSTREAM_MQTT_USERNAME,
          password: e.UPSTREAM_MQTT_PASSWORD,
          shareGroup: e.UPSTREAM_SHARE_GROUP,
          tls:
            e.UPSTREAM_TLS_CA_FILE || e.UPSTREAM_TLS_CERT_FILE
              ? { caFile: e.UPSTREAM_TLS_CA_FILE, certFile: e.UPSTREAM_TLS_CERT_FILE, keyFile: e.UPSTREAM_TLS_KEY_FILE }
              : undefined,
        }
      : undefined,
    adminToken: e.ADMIN_TOKEN,
    roles,
    logLevel: e.LOG_LEVEL,
    // unset: the HTTP API's own address (startRegenwacht fills in the port when HTTP_PORT=0)
    publicUrl: (e.PUBLIC_URL ?? `http://${urlHost(e.BIND_HOST)}:${e.HTTP_PORT}`).replace(/\/$/, ''),
    httpRateLimit: e.HTTP_RATE_LIMIT,
    httpMaxConnectionsPerAddress: e.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    httpHeadersTimeoutS: e.HTTP_HEADERS_TIMEOUT,
    openDataRateLimit: e.OPEN_DATA_RATE_LIMIT,
    webhookAllowNets: e.WEBHOOK_ALLOW_NETS,
    cap: { status: e.CAP_STATUS, scope: e.CAP_SCOPE, restriction: e.CAP_RESTRICTION },
    capArs: e.CAP_ARS,
    sms: {
      provider: e.SMS_PROVIDER,
      httpUrl: e.SMS_HTTP_URL,
      httpToken: e.SMS_HTTP_TOKEN,
      twilioAccountSid: e.TWILIO_ACCOUNT_SID,
      twilioAuthToken: e.TWILIO_AUTH_TOKEN,
      twilioFrom: e.TWILIO_FROM,
      twilioBaseUrl: e.TWILIO_BASE_URL,
      sevenApiKey: e.SEVEN_API_KEY,
      sevenFrom: e.SEVEN_FROM,
      sevenBaseUrl: e.SEVEN_BASE_URL,
      sevenWebhookSecret: e.SEVEN_WEBHOOK_SECRET,
      providers: e.SMS_PROVIDERS ?? [e.SMS_PROVIDER],
      deliveryTimeoutMs: e.SMS_DELIVERY_TIMEOUT,
    },
    mail: e.SMTP_URL ? { url: e.SMTP_URL, from: (e.MAIL_FROM ?? e.SMTP_FROM ?? '').trim() } : undefined,
    dwd: dwdInputs(e),
    mapTiles: { url: e.MAP_TILES_URL === 'none' ? null : e.MAP_TILES_URL, attribution: e.MAP_TILES_ATTRIBUTION },
  };
  return deepFreeze(cfg);
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v);
  return Object.freeze(o);
}
