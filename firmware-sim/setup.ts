// --setup: registers the simulated devices, MQTT credentials, a DWD heavy-rain rule and optional routes
// through the HTTP API [docs/api.md, firmware-sim/README.md]. Idempotent: what exists (409, or found by name) is left alone.
import { randomBytes } from 'node:crypto';
import type { SimDevice } from './devices.ts';
import { getModel } from './encoders/index.ts';
import { chirpstackTopic, nativeTopic, topicsFor, ttsTopic } from './envelopes.ts';
import type { Rng } from './prng.ts';
import type { SensorParams } from './sensor.ts';

export interface SetupInput {
  api: string;
  token: string;
  devices: SimDevice[];
  sensor: SensorParams;
  username?: string;
  webhook?: string;
  sms?: string;
  /** --nowcast: the gauges form catchment `sim` (tag catchment=sim) with a forecast + gauge rule */
  nowcast?: boolean;
  rng: Rng;
  fetchImpl?: typeof fetch;
}

export interface SetupResult {
  devicesCreated: number;
  devicesExisting: number;
  credentials?: { username: string; password: string };
  ruleId?: string;
  /** --nowcast: the combined rule on the catchment's forecast */
  nowcastRuleId?: string;
  ruleCreated: boolean;
  ruleUpdated?: boolean;
  routesCreated: string[];
}

export const RULE_NAME = 'Simulator DWD Starkregen';
export const WEBHOOK_ROUTE_NAME = 'Simulator webhook';
export const SMS_ROUTE_NAME = 'Simulator SMS';
export const NOWCAST_RULE_NAME = 'Simulator Radarvorhersage + Pegel';
export const NOWCAST_CATCHMENT = 'sim';
const NOTIFY_ON = ['firing', 'escalated', 'deescalated', 'acknowledged', 'resolved'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function runSetup(s: SetupInput): Promise<SetupResult> {
  const call = apiClient(s.api, s.token, s.fetchImpl ?? fetch);
  const spec = getModel(s.devices[0].model);
  const result: SetupResult = { devicesCreated: 0, devicesExisting: 0, ruleCreated: false, routesCreated: [] };

  for (const d of s.devices) {
    const r = await call(
      'POST',
      '/api/v1/devices',
      {
        id: d.id,
        name: `Simulator ${d.model} #${d.n}`,
        model: d.model,
        devEui: d.devEui,
        // scattered around Gießen so maps and CAP areas look plausible
        location: { lat: round(50.58 + (s.rng.next() - 0.5) * 0.08), lon: round(8.67 + (s.rng.next() - 0.5) * 0.12) },
        params: { mountHeightMm: s.sensor.mountHeightMm, levelOffsetCm: 0, mmPerTip: s.sensor.mmPerTip },
        tags: { simulator: 'true', kind: spec.kind, simModel: d.model, ...(s.nowcast && { catchment: NOWCAST_CATCHMENT }) },
      },
      [409],
    );
    if (r.status === 409) {
      await checkExisting(call, d);
      result.devicesExisting++;
    } else result.devicesCreated++;
  }

  if (s.username === undefined) result.credentials = await createCredentials(call, s);

  const gauges = s.devices.filter(() => spec.kind === 'rain').map((d) => d.id);
  if (gauges.length) {
    const existing = findByName(await call('GET', '/api/v1/rules'), RULE_NAME);
    if (existing) {
      result.ruleId = String(existing.id);
      // a later run with another model adds its gauges to the same rule instead of a second rule
      const scoped = ((existing.scope as { deviceIds?: string[] })?.deviceIds ?? []) as string[];
      const missing = gauges.filter((id) => !scoped.includes(id));
      if (missing.length) {
        await call('PATCH', `/api/v1/rules/${encodeURIComponent(result.ruleId)}`, { scope: { deviceIds: [...scoped, ...missing] } });
        result.ruleUpdated = true;
      }
    } else {
      const r = await call('POST', '/api/v1/rules', { name: RULE_NAME, preset: 'dwd-starkregen', scope: { deviceIds: gauges } });
      result.ruleId = String((r.body as { id?: unknown })?.id ?? '');
      result.ruleCreated = true;
    }
  }

  if (s.nowcast && gauges.length) result.nowcastRuleId = await nowcastSetup(call, gauges);

  const routes: Array<[string, unknown]> = [];
  if (s.webhook) {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    routes.push([WEBHOOK_ROUTE_NAME, { type: 'webhook', url: s.webhook, secret, format: 'regenwacht' }]);
  }
  if (s.sms) routes.push([SMS_ROUTE_NAME, { type: 'sms', to: s.sms }]);
  if (routes.length) {
    const list = await call('GET', '/api/v1/routes');
    for (const [name, target] of routes) {
      if (findByName(list, name)) continue;
      // with the nowcast, the forecast's `minor` pre-warning is sent too
      await call('POST', '/api/v1/routes', { name, match: { minSeverity: s.nowcast ? 'minor' : 'moderate' }, targets: [target], notifyOn: NOTIFY_ON });
      result.routesCreated.push(name);
    }
  }
  return result;
}

/** The catchment around the simulated gauges and the rule that warns from the forecast (`minor`) and escalates
 *  the same alarm when a gauge confirms (`moderate`). [docs/warning-logic.md Combined rules] */
async function nowcastSetup(call: ApiCall, gauges: string[]): Promise<string> {
  await call('POST', '/api/v1/catchments', { id: NOWCAST_CATCHMENT, name: 'Simulator', circle: { deviceIds: gauges, radiusM: 3000 }, thresholdMm: 20 });
  const existing = findByName(await call('GET', '/api/v1/rules'), NOWCAST_RULE_NAME);
  if (existing) return String(existing.id);
  const r = await call('POST', '/api/v1/rules', {
    name: NOWCAST_RULE_NAME,
    kind: 'threshold',
    metric: 'forecast_60min_mm',
    scope: { tags: { source: 'dwd-nowcast', catchment: NOWCAST_CATCHMENT } },
    levels: [
      { severity: 'minor', threshold: 20 },
      { severity: 'moderate', threshold: 20, and: { metric: 'rain_mm', kind: 'accumulation', window: '15m', threshold: 5 } },
    ],
  });
  return String((r.body as { id?: unknown })?.id ?? '');
}

/**
 * A 409 is fine only when it is our device. DevEUIs are `5E55` + n for every model [firmware-sim/README.md], so
 * sim devices of two models with the same n collide on the DevEUI: say so instead of sending frames
 * that the other device's decoder would reject.
 */
async function checkExisting(call: ApiCall, d: SimDevice): Promise<void> {
  const r = await call('GET', `/api/v1/devices/${encodeURIComponent(d.id)}`, undefined, [404]);
  const body = r.body as { model?: string; devEui?: string } | undefined;
  if (r.status === 404) {
    throw new ApiError(
      409,
      `cannot register ${d.id}: DevEUI ${d.devEui} already belongs to another device ` +
        '(simulated devices of every model share the DevEUIs 5E55…n); delete the other simulated devices or use the same --model',
    );
  }
  if (body?.model && body.model !== d.model) {
    throw new ApiError(409, `${d.id} exists with model ${body.model}, not ${d.model}`);
  }
}

/** The MQTT ACL allows at most 100 filters: exact topics while they fit, else the sim application's wildcards. */
export function publishFilters(devices: SimDevice[]): string[] {
  const exact = devices.flatMap(topicsFor);
  if (exact.length <= 100) return exact;
  const native = devices.length <= 98 ? devices.map((d) => nativeTopic(d.id)) : ['devices/+/up'];
  return [chirpstackTopic('+'), ttsTopic('+'), ...native];
}

async function createCredentials(call: ApiCall, s: SetupInput): Promise<{ username: string; password: string }> {
  const publish = publishFilters(s.devices);
  const base = `sim-${s.devices[0]?.model ?? 'device'}`;
  // Look first (a reader may lack the right to list: then learn from 409s). The password is shown only
  // once: a credential of an earlier run with the same ACL gets a new password (rotate), so a second run adds
  // no credential [firmware-sim/README.md]; one with another ACL is left alone and a fresh suffix taken.
  const taken = new Set<string>();
  const same: string[] = [];
  const want = [...publish].sort().join('\n');
  try {
    for (const c of listItems((await call('GET', '/api/v1/mqtt-credentials')).body)) {
      const name = String(c.username);
      taken.add(name);
      const acl = Array.isArray(c.publish) ? c.publish.map(String).sort().join('\n') : undefined;
      if ((name === base || name.startsWith(`${base}-`)) && acl === want) same.push(name);
    }
  } catch {
    /* fall back to 409 handling */
  }
  for (const username of same.sort((a, b) => (a === base ? -1 : b === base ? 1 : a.localeCompare(b)))) {
    const r = await call('POST', `/api/v1/mqtt-credentials/${encodeURIComponent(username)}/rotate`, undefined, [403, 404]);
    const body = r.body as { username?: string; password?: string };
    if (r.status === 200 && body?.password) return { username: body.username ?? username, password: body.password };
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    const username = attempt === 0 && !taken.has(base) ? base : `${base}-${randomBytes(3).toString('hex')}`;
    if (taken.has(username)) continue;
    const r = await call('POST', '/api/v1/mqtt-credentials', { username, publish }, [409]);
    if (r.status !== 409) {
      const body = r.body as { username?: string; password?: string };
      if (!body?.password) throw new ApiError(r.status, 'POST /api/v1/mqtt-credentials returned no password');
      return { username: body.username ?? username, password: body.password };
    }
    taken.add(username);
  }
  throw new ApiError(409, `could not find a free MQTT username starting with ${base}`);
}

type ApiCall = (method: string, path: string, body?: unknown, okStatuses?: number[]) => Promise<{ status: number; body: unknown }>;

function apiClient(base: string, token: string, fetchImpl: typeof fetch): ApiCall {
  const root = base.replace(/\/+$/, '');
  return async (method, path, body, okStatuses = []) => {
    let res: Response;
    try {
      res = await fetchImpl(`${root}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ApiError(0, `cannot reach the API at ${root} (${cause})`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text for the error message */
    }
    if (res.ok || okStatuses.includes(res.status)) return { status: res.status, body: parsed };
    const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text.slice(0, 200);
    const hint = res.status === 401 ? ' (is --token a valid API token?)' : res.status === 403 ? ' (the token lacks the role for this)' : '';
    throw new ApiError(res.status, `${method} ${path} failed: HTTP ${res.status} ${msg}${hint}`);
  };
}

/** GET lists may be a bare array or {items:[…]}. */
export function listItems(body: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(body)) return body;
  const items = (body as { items?: unknown })?.items;
  return Array.isArray(items) ? items : [];
}

const findByName = (r: { body: unknown }, name: string): Record<string, unknown> | undefined => listItems(r.body).find((x) => x.name === name);

const round = (v: number): number => Math.round(v * 1e5) / 1e5;
