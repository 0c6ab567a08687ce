// Devices for operators and integrators: the list with each device's health, the register form (model
// picker with its documentation and parameters, map to pick the location), a device's page with a
// test-decode box and the live view of its last uplinks and rejections. [issue 14]
// Registering and decoding go through the same services as the JSON API (device-service, codec-service).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tryParseDuration } from '../../../alerts/rules/duration.ts';
import { OFFLINE_METRIC } from '../../../alerts/rules/rule-types.ts';
import { type Alarm, isMetric, unitOf } from '../../../alerts/types.ts';
import { orgFilter, sees } from '../../api/auth.ts';
import { allowed } from '../../auth/roles.ts';
import type { Principal } from '../../auth/token-store.ts';
import type { Device } from '../../devices/device-registry.ts';
import { deviceBody, registerDevice } from '../../devices/device-service.ts';
import { type FleetRow, fleetHealth } from '../../devices/fleet-health.ts';
import { rejectionsOf, uplinksOf } from '../../devices/uplink-log.ts';
import { codecsOf, testDecodeForDevice, testFrame } from '../../ingest/codec-service.ts';
import { BUILTIN_MODELS } from '../../ingest/codecs/index.ts';
import type { RejectReason } from '../../ingest/types.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebNotFound } from '../context.ts';
import { docText, MODEL_DOCS, modelDoc } from '../device-models.ts';
import { STALE_MS } from '../feed.ts';
import { apiFieldErrors, csrfField, type FieldErrors, inputField, isApiError, parsePairs, selectField, zodFieldErrors } from '../form.ts';
import { type Html, html, jsonBlock } from '../html.ts';
import type { I18n } from '../i18n.ts';
import { dt } from '../i18n-devices.ts';
import { layout, message } from '../layout.ts';
import { openAlarms } from '../situation.ts';
import { accessPages, deviceSubnav } from './access.ts';

const unit = (m: string) => (isMetric(m) ? unitOf(m) : '');

export type Health = 'ok' | 'late' | 'offline' | 'never';
/** the live view's sweep for uplinks stored by another process (this one's are pushed by the feed at once) */
const SWEEP_MS = 15_000;
const MIN_LATE_MS = 15 * 60_000;

export const REJECT_REASONS: RejectReason[] = [
  'unknown_topic',
  'bad_envelope',
  'invalid_json',
  'unknown_device',
  'bad_payload',
  'decode_error',
  'wrong_fport',
  'codec_timeout',
  'codec_memory',
  'codec_error',
  'no_codec',
  'unknown_metric',
  'out_of_range',
  'bad_time',
  'too_large',
  'acl_denied',
  'identity_mismatch',
  'store_error',
];

/** The device's own expectation (params.expectedInterval, e.g. "15m"), in ms. */
export const expectedMs = (d: Device): number | undefined =>
  typeof d.params.expectedInterval === 'string' ? tryParseDuration(d.params.expectedInterval) : undefined;

/** Late: silent for twice its expected interval (or three median intervals), at least 15 min; offline: grey on the map. */
export function healthOf(d: Device, row: FleetRow | undefined, alarms: Alarm[], now: number): Health {
  if (!row?.lastSeen) return 'never';
  const silent = now - row.lastSeen;
  if (alarms.some((a) => a.metric === OFFLINE_METRIC) || silent > STALE_MS) return 'offline';
  const exp = expectedMs(d);
  const limit = exp !== undefined ? 2 * exp : row.intervalMs ? 3 * row.intervalMs : undefined;
  return limit !== undefined && silent > Math.max(limit, MIN_LATE_MS) ? 'late' : 'ok';
}

const HEALTH_CLASS: Record<Health, string> = { ok: 'sev-ok', late: 'sev-minor', offline: 'sev-offline', never: 'sev-offline' };

function healthBadge(t: ReturnType<typeof dt>, h: Health): Html {
  return html`<span class="sev ${HEALTH_CLASS[h]}" data-health="${h}">${t(`health_${h}`)}</span>`;
}

function batteryText(i: I18n, row: FleetRow | undefined): string {
  if (!row?.battery) return '–';
  return row.battery.metric === 'battery_v' ? `${i.num(row.battery.value, 2)} V` : `${i.num(row.battery.value, 0)} %`;
}

const radioText = (i: I18n, row: FleetRow | undefined) =>
  row && (row.rssi !== null || row.snr !== null)
    ? `${row.rssi === null ? '–' : `${i.num(row.rssi, 0)} dBm`} / ${row.snr === null ? '–' : `${i.num(row.snr, 1)} dB`}`
    : '–';

function intervalText(i: I18n, d: Device, row: FleetRow | undefined): string {
  const exp = expectedMs(d);
  const actual = row?.intervalMs ? i.duration(row.intervalMs) : '–';
  return `${actual} / ${exp !== undefined ? i.duration(exp) : '–'}`;
}

interface ListFilters {
  q: string;
  model: string;
  health: '' | Health;
  org: string;
}

function parseListFilters(q: Record<string, string | undefined>): ListFilters {
  const h = q.health;
  return {
    q: (q.q ?? '').slice(0, 100),
    model: q.model && /^[a-z0-9-]{1,40}$/.test(q.model) ? q.model : '',
    health: h === 'ok' || h === 'late' || h === 'offline' || h === 'never' ? h : '',
    org: q.org && /^[a-z0-9-]{1,40}$/.test(q.org) ? q.org : '',
  };
}

const ALL_MODELS = ['generic', 'js-codec', ...BUILTIN_MODELS];

export async function devicePages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  await accessPages(app, d);

  const visibleDevice = (req: FastifyRequest, p: Principal): Device => {
    const dev = ctx.devices.get((req.params as { id: string }).id);
    // another municipality's device answers like one that does not exist
    if (!dev || !sees(p, dev.org)) throw new WebNotFound();
    return dev;
  };

  app.get('/devices', async (req, reply) => {
    const p = needUser(req);
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const f = parseListFilters(req.query as Record<string, string | undefined>);
    const now = Date.now();
    const [rows, alarms] = await Promise.all([fleetHealth(ctx.db, orgFilter(p)), openAlarms(d, p)]);
    const byDevice = new Map<string, Alarm[]>();
    for (const a of alarms) byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
    const needle = f.q.toLowerCase();
    const list = ctx.devices
      .list()
      .filter((x) => sees(p, x.org) && (!f.org || x.org === f.org) && (!f.model || x.model === f.model))
      .filter((x) => !needle || x.id.toLowerCase().includes(needle) || x.name.toLowerCase().includes(needle))
      .map((x) => ({ dev: x, row: rows.get(x.id), alarms: byDevice.get(x.id) ?? [] }))
      .map((x) => ({ ...x, health: healthOf(x.dev, x.row, x.alarms, now) }))
      .filter((x) => !f.health || x.health === f.health);
    const orgs = p.org === null ? [...new Set(ctx.devices.list().map((x) => x.org))].sort() : null;
    const body = html`<section>${deviceSubnav(t, p, '/devices')}<div class="page-head"><h1>${t('devices_title')}</h1>
${allowed(p.role, 'devices:write') ? html`<a class="button primary" href="/devices/new">${t('devices_register')}</a>` : ''}</div>
<form method="get" action="/devices" class="filters" role="search">
${inputField({ name: 'q', label: t('filter_q'), value: f.q, type: 'search' })}
${selectField({ name: 'health', label: t('filter_health'), value: f.health, options: [{ value: '', label: t('filter_all') }, ...(['ok', 'late', 'offline', 'never'] as const).map((h) => ({ value: h, label: t(`health_${h}`) }))] })}
${selectField({ name: 'model', label: t('filter_model'), value: f.model, options: [{ value: '', label: t('filter_all') }, ...ALL_MODELS.map((m) => ({ value: m, label: m }))] })}
${orgs ? selectField({ name: 'org', label: t('col_org'), value: f.org, options: [{ value: '', label: t('filter_all') }, ...orgs.map((o) => ({ value: o, label: o }))] }) : ''}
<button type="submit">${t('filter_apply')}</button>
</form>
<p class="muted" role="status">${t('devices_count', { n: list.length })}</p>
${
  list.length
    ? html`<div class="table-wrap"><table class="devices"><thead><tr><th scope="col">${t('col_device')}</th><th scope="col">${t('col_health')}</th><th scope="col">${t('col_last_seen')}</th><th scope="col">${t('col_interval')}</th><th scope="col">${t('col_battery')}</th><th scope="col">${t('col_radio')}</th><th scope="col">${t('col_alarms')}</th><th scope="col">${t('col_model')}</th>${orgs ? html`<th scope="col">${t('col_org')}</th>` : ''}</tr></thead>
<tbody>${list.map(
        (
          x,
        ) => html`<tr data-device="${x.dev.id}" data-health="${x.health}"><td><a href="/devices/${encodeURIComponent(x.dev.id)}">${x.dev.name}</a><br><small class="muted">${x.dev.id}</small></td>
<td>${healthBadge(t, x.health)}</td><td>${x.row?.lastSeen ? i.time(x.row.lastSeen) : t('never')}</td><td>${intervalText(i, x.dev, x.row)}</td>
<td>${batteryText(i, x.row)}</td><td>${radioText(i, x.row)}</td><td class="num">${x.alarms.length}</td><td>${x.dev.model}</td>${orgs ? html`<td>${x.dev.org}</td>` : ''}</tr>`,
      )}</tbody></table></div>`
    : html`<p>${t('devices_empty')}</p>`
}
</section>`;
    return sendHtml(reply, layout(v, { title: t('devices_title'), page: 'devices', body }));
  });

  // ---- register ----

  interface RegForm {
    id: string;
    name: string;
    model: string;
    devEui: string;
    lat: string;
    lon: string;
    codec: string;
    tags: string;
    expectedInterval: string;
    org: string;
    params: Record<string, string>;
  }
  const PARAM_KEYS = ['mountHeightMm', 'levelOffsetCm', 'mmPerTip', 'deadZoneMm', 'pMin', 'pMax', 'kp'] as const;

  const registerPage = async (req: FastifyRequest, p: Principal, form: Partial<RegForm> = {}, errors: FieldErrors = {}) => {
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    // codec ids only (their source is the installation's): a municipality's integrator picks one by name
    const codecs = (await codecsOf(ctx)).list();
    const model = form.model || 'generic';
    const tiles = ctx.config.mapTiles;
    const others = ctx.devices.list().filter((x) => sees(p, x.org) && x.location);
    const body = html`<section><h1>${t('reg_title')}</h1>
${Object.keys(errors).length ? message('error', t('reg_fix')) : ''}
<form method="post" action="/devices/new" class="register" novalidate>
${csrfField(v.session?.csrf)}
<div class="cols">
<div class="stack">
${inputField({ name: 'id', label: t('reg_id'), value: form.id, error: errors.id, help: t('reg_id_help'), required: true, attrs: [['autocomplete', 'off']] })}
${inputField({ name: 'name', label: t('reg_name'), value: form.name, error: errors.name, required: true })}
${selectField({ name: 'model', label: t('reg_model'), value: model, error: errors.model, options: ALL_MODELS.map((m) => ({ value: m, label: m })), attrs: [['aria-controls', 'model-doc']] })}
<div id="model-doc" class="card model-doc" aria-live="polite">${MODEL_DOCS.map(
      (
        m,
      ) => html`<div data-model="${m.id}" data-params="${m.params.map((x) => x.key).join(' ')}"${m.id === model ? '' : html` hidden`}><h2>${t('reg_model_doc')}: ${m.id}</h2><p>${docText(m, i.lang)}</p>
<h3>${t('reg_model_params')}</h3>${m.params.length ? html`<ul>${m.params.map((x) => html`<li><code>${x.key}</code>${x.unit ? ` (${x.unit})` : ''}: ${x[i.lang]}</li>`)}</ul>` : html`<p>${t('reg_model_none')}</p>`}</div>`,
    )}</div>
${selectField({ name: 'codec', label: t('reg_codec'), value: form.codec, error: errors['params.codec'], options: [{ value: '', label: t('reg_codec_none') }, ...codecs.map((c) => ({ value: c.id, label: c.id }))] })}
${inputField({
  name: 'devEui',
  label: t('reg_deveui'),
  value: form.devEui,
  error: errors.devEui,
  help: t('reg_deveui_help'),
  attrs: [
    ['autocomplete', 'off'],
    ['spellcheck', 'false'],
  ],
})}
<fieldset><legend>${t('reg_params')}</legend>
${PARAM_KEYS.map((k) =>
  inputField({
    name: `p_${k}`,
    label: k,
    value: form.params?.[k],
    error: errors[`params.${k}`],
    attrs: [
      ['inputmode', 'decimal'],
      ['data-param', k],
    ],
  }),
)}
${inputField({ name: 'expectedInterval', label: t('reg_expected'), value: form.expectedInterval, error: errors['params.expectedInterval'] })}
</fieldset>
${inputField({ name: 'tags', label: t('reg_tags'), value: form.tags, error: errors.tags })}
${p.org === null ? inputField({ name: 'org', label: t('reg_org'), value: form.org, error: errors.org, attrs: [['placeholder', 'default']] }) : ''}
</div>
<div class="stack">
<p id="map-h">${t('reg_map')}</p>
<div id="pick-map" class="pick-map" role="region" aria-labelledby="map-h"></div>
${tiles.url ? '' : html`<p class="muted">${t('reg_map_none')}</p>`}
<div class="latlon">
${inputField({ name: 'lat', label: t('reg_lat'), value: form.lat, error: errors['location.lat'] ?? errors.location, attrs: [['inputmode', 'decimal']] })}
${inputField({ name: 'lon', label: t('reg_lon'), value: form.lon, error: errors['location.lon'], attrs: [['inputmode', 'decimal']] })}
</div>
</div>
</div>
<button type="submit" class="primary">${t('reg_submit')}</button>
</form></section>
${jsonBlock('pick-data', {
  tiles: tiles.url ? { url: tiles.url, attribution: tiles.attribution } : null,
  others: others.map((x) => ({ name: x.name, lat: x.location?.lat, lon: x.location?.lon })),
})}`;
    return layout(v, {
      title: t('reg_title'),
      page: 'device-register',
      body,
      styles: ['/assets/leaflet/leaflet.css'],
      scripts: ['/assets/leaflet/leaflet.js', '/assets/app/devices.js'],
    });
  };

  app.get('/devices/new', async (req, reply) => {
    const p = needUser(req, 'devices:write');
    return sendHtml(reply, await registerPage(req, p));
  });

  app.post('/devices/new', async (req, reply) => {
    const p = needUser(req, 'devices:write');
    checkCsrf(req);
    const b = req.body;
    const form: RegForm = {
      id: field(b, 'id').trim(),
      name: field(b, 'name').trim(),
      model: field(b, 'model'),
      devEui: field(b, 'devEui').trim(),
      lat: field(b, 'lat').trim(),
      lon: field(b, 'lon').trim(),
      codec: field(b, 'codec'),
      tags: field(b, 'tags'),
      expectedInterval: field(b, 'expectedInterval').trim(),
      org: field(b, 'org').trim(),
      params: Object.fromEntries(PARAM_KEYS.map((k) => [k, field(b, `p_${k}`).trim()])),
    };
    const errors: FieldErrors = {};
    const num = (s: string) => (s === '' ? undefined : Number(s.replace(',', '.')));
    const params: Record<string, unknown> = {};
    for (const k of PARAM_KEYS) if (form.params[k] !== '') params[k] = num(form.params[k]);
    if (form.codec) params.codec = form.codec;
    if (form.expectedInterval) {
      if (tryParseDuration(form.expectedInterval) === undefined) errors['params.expectedInterval'] = '5m, 15m, 1h …';
      else params.expectedInterval = form.expectedInterval;
    }
    const tags = parsePairs(form.tags);
    if (tags.bad.length) errors.tags = `key=value: ${tags.bad.join(', ')}`;
    const lat = num(form.lat);
    const lon = num(form.lon);
    const input = {
      id: form.id,
      name: form.name,
      model: form.model,
      ...(form.devEui ? { devEui: form.devEui } : {}),
      location: lat === undefined && lon === undefined ? null : { lat: lat ?? Number.NaN, lon: lon ?? Number.NaN },
      params,
      tags: tags.pairs,
      ...(form.org ? { org: form.org } : {}),
    };
    // the API's own schema; a js-codec device needs its codec here, as ingest will
    const parsed = deviceBody.safeParse(input);
    if (!parsed.success) Object.assign(errors, zodFieldErrors(parsed.error));
    if (form.model === 'js-codec' && !form.codec) errors['params.codec'] ??= dt(req.web.i)('reg_codec_none');
    if (Object.keys(errors).length || !parsed.success) return sendHtml(reply, await registerPage(req, p, form, errors), 400);
    try {
      const dev = await registerDevice(ctx, p, `web:${p.session.user.login}`, parsed.data);
      return reply.redirect(`/devices/${encodeURIComponent(dev.id)}?registered=1`, 303);
    } catch (e) {
      if (!isApiError(e)) throw e;
      const fallback = /devEui/i.test(e.message) ? 'devEui' : e.code === 'FORBIDDEN' ? 'org' : 'id';
      return sendHtml(reply, await registerPage(req, p, form, apiFieldErrors(e, fallback)), e.statusCode);
    }
  });

  // ---- one device ----

  const devicePage = async (
    req: FastifyRequest,
    p: Principal,
    dev: Device,
    o: { test?: Html; frame?: { bytes: string; fPort: string }; testErrors?: FieldErrors } = {},
  ) => {
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const q = req.query as Record<string, string | undefined>;
    const filter = liveFilter(q.show);
    const now = Date.now();
    const [rows, alarms] = await Promise.all([fleetHealth(ctx.db, dev.org), openAlarms(d, p)]);
    const row = rows.get(dev.id);
    const mine = alarms.filter((a) => a.deviceId === dev.id);
    const health = healthOf(dev, row, mine, now);
    const renderedAt = Date.now();
    const entries = await liveEntries(dev, p, filter, 0, 0, 30);
    const newestRejection = (await rejectionsOf(ctx.db, { deviceId: dev.id, afterId: 0, org: orgFilter(p), limit: 1 }))[0]?.id ?? 0;
    const canWrite = allowed(p.role, 'devices:write');
    const doc = modelDoc(dev.model);
    const body = html`<section><div class="page-head"><h1>${t('dev_title', { name: dev.name })}</h1><a href="/stations/${encodeURIComponent(dev.id)}">${t('dev_station')}</a></div>
${q.registered ? message('ok', t('reg_done', { id: dev.id })) : ''}
<div class="cols">
<section aria-labelledby="facts-h"><h2 id="facts-h">${t('dev_facts')}</h2>
<dl class="kv">
<div><dt>ID</dt><dd>${dev.id}</dd></div>
<div><dt>${t('reg_model')}</dt><dd>${dev.model}${doc ? html`<br><small class="muted">${docText(doc, i.lang)}</small>` : ''}</dd></div>
${dev.devEui ? html`<div><dt>DevEUI</dt><dd>${dev.devEui}</dd></div>` : ''}
<div><dt>${t('dev_topic')}</dt><dd>${(dev.model === 'generic' ? [`devices/${dev.id}/up`] : [...(dev.devEui ? [`application/+/device/${dev.devEui.toLowerCase()}/event/up`] : []), `v3/+/devices/${dev.id}/up`]).map((x) => html`<code>${x}</code><br>`)}</dd></div>
<div><dt>${t('dev_location')}</dt><dd>${dev.location ? `${i.num(dev.location.lat, 5)}, ${i.num(dev.location.lon, 5)}` : '–'}</dd></div>
<div><dt>${t('dev_params')}</dt><dd>${Object.entries(dev.params).map(([k, x]) => html`<code>${k}=${typeof x === 'string' ? x : JSON.stringify(x)}</code> `)}</dd></div>
<div><dt>${t('dev_tags')}</dt><dd>${
      Object.entries(dev.tags)
        .map(([k, x]) => `${k}=${x}`)
        .join(', ') || '–'
    }</dd></div>
${p.org === null ? html`<div><dt>${t('col_org')}</dt><dd>${dev.org}</dd></div>` : ''}
</dl></section>
<section aria-labelledby="health-h"><h2 id="health-h">${t('dev_health')}</h2>
<dl class="kv">
<div><dt>${t('col_health')}</dt><dd id="dev-health">${healthBadge(t, health)}</dd></div>
<div><dt>${t('col_last_seen')}</dt><dd id="dev-last-seen">${row?.lastSeen ? i.time(row.lastSeen) : t('never')}</dd></div>
<div><dt>${t('col_interval')}</dt><dd>${intervalText(i, dev, row)}</dd></div>
<div><dt>${t('col_battery')}</dt><dd>${batteryText(i, row)}</dd></div>
<div><dt>${t('col_radio')}</dt><dd>${radioText(i, row)}</dd></div>
<div><dt>${t('col_alarms')}</dt><dd>${mine.length ? mine.map((a) => html`<a href="/alarms/${a.id}">${a.ruleName} (${i.sev(a.severity)})</a> `) : '0'}</dd></div>
</dl></section>
</div>
${
  canWrite && dev.model !== 'generic'
    ? html`<section aria-labelledby="test-h" class="card"><h2 id="test-h">${t('test_title')}</h2><p class="muted">${t('test_help')}</p>
<form method="post" action="/devices/${encodeURIComponent(dev.id)}/test-decode" class="test-decode">
${csrfField(v.session?.csrf)}
${inputField({
  name: 'bytes',
  label: t('test_bytes'),
  value: o.frame?.bytes,
  error: o.testErrors?.bytes,
  prefix: 'td',
  attrs: [
    ['autocomplete', 'off'],
    ['spellcheck', 'false'],
    ['class', 'mono'],
  ],
})}
${inputField({ name: 'fPort', label: t('test_fport'), value: o.frame?.fPort ?? '1', error: o.testErrors?.fPort, prefix: 'td', attrs: [['inputmode', 'numeric']] })}
<button type="submit">${t('test_submit')}</button>
</form>
<div id="test-result" aria-live="polite">${o.test ?? ''}</div></section>`
    : ''
}
<section aria-labelledby="live-h"><div class="page-head"><h2 id="live-h">${t('live_title')}</h2><span id="live" class="live off" role="status">${t('live_off')}</span></div>
<form method="get" action="/devices/${encodeURIComponent(dev.id)}" class="filters">
${selectField({
  name: 'show',
  label: t('live_filter'),
  value: q.show ?? '',
  prefix: 'lv',
  options: [
    { value: '', label: t('live_all') },
    { value: 'uplinks', label: t('live_uplinks') },
    { value: 'rejected', label: t('live_rejected') },
    ...REJECT_REASONS.map((r) => ({ value: r, label: t('live_reason', { reason: r }) })),
  ],
})}
<button type="submit">${t('filter_apply')}</button>
</form>
<div class="table-wrap"><table class="live-log" id="live-log" data-device="${dev.id}" data-show="${q.show ?? ''}"><thead><tr><th scope="col">${t('col_received')}</th><th scope="col">${t('col_kind')}</th><th scope="col">${t('col_detail')}</th></tr></thead>
<tbody>${entries.map((e) => liveRow(i, t, e))}</tbody></table></div>
${entries.length ? '' : html`<p class="muted" id="live-empty">${t('live_empty')}</p>`}
</section></section>
${jsonBlock('device-data', { id: dev.id, show: q.show ?? '', t: renderedAt, rid: newestRejection, lang: i.lang, words: { on: t('live_on'), off: t('live_off'), uplink: t('kind_uplink'), rejected: t('kind_rejected'), sending: t('health_ok') } })}`;
    return layout(v, { title: t('dev_title', { name: dev.name }), page: 'device', body, scripts: ['/assets/app/devices.js'] });
  };

  /** What the live view shows under a filter: '' everything, 'uplinks', 'rejected', or one reason. */
  function liveFilter(show: string | undefined): { uplinks: boolean; rejected: boolean; reason?: string } {
    if (show === 'uplinks') return { uplinks: true, rejected: false };
    if (show === 'rejected') return { uplinks: false, rejected: true };
    if (show && (REJECT_REASONS as string[]).includes(show)) return { uplinks: false, rejected: true, reason: show };
    return { uplinks: true, rejected: true };
  }

  async function liveEntries(dev: Device, p: Principal, f: ReturnType<typeof liveFilter>, afterTime: number, afterId: number, limit: number) {
    const [ups, rej] = await Promise.all([
      f.uplinks ? uplinksOf(ctx.db, dev.id, afterTime, limit) : [],
      f.rejected ? rejectionsOf(ctx.db, { deviceId: dev.id, afterId, org: orgFilter(p), reason: f.reason, limit }) : [],
    ]);
    return [...ups, ...rej].sort((a, b) => b.receivedAt - a.receivedAt).slice(0, limit);
  }

  app.get('/devices/:id', async (req, reply) => {
    const p = needUser(req);
    const dev = visibleDevice(req, p);
    return sendHtml(reply, await devicePage(req, p, dev));
  });

  app.post('/devices/:id/test-decode', async (req, reply) => {
    const p = needUser(req, 'devices:write');
    checkCsrf(req);
    const dev = visibleDevice(req, p);
    const t = dt(req.web.i);
    const i = req.web.i;
    const frame = { bytes: field(req.body, 'bytes').trim(), fPort: field(req.body, 'fPort').trim() };
    const parsed = testFrame.safeParse({
      bytes: frame.bytes.replace(/\s+/g, '').replace(/^0x/i, ''),
      fPort: frame.fPort === '' ? Number.NaN : Number(frame.fPort),
    });
    if (!parsed.success) return sendHtml(reply, await devicePage(req, p, dev, { frame, testErrors: zodFieldErrors(parsed.error) }), 400);
    const r = await testDecodeForDevice(ctx, dev, parsed.data);
    const output =
      'output' in r && r.output !== undefined
        ? html`<details open><summary>${t('test_output')}</summary><pre>${JSON.stringify(r.output, null, 2)}</pre></details>`
        : '';
    const result = r.ok
      ? html`<p class="msg msg-ok" role="status">${t('test_ok')}</p><table class="decoded"><thead><tr><th scope="col">${t('col_metric')}</th><th scope="col">${t('col_value')}</th></tr></thead>
<tbody>${Object.entries(r.values).map(([m, x]) => html`<tr data-metric="${m}"><td>${m}</td><td class="num">${i.num(x, 6)} ${unit(m)}</td></tr>`)}${
          r.counter ? html`<tr data-metric="counter"><td>counter</td><td class="num">${r.counter.count}</td></tr>` : ''
        }</tbody></table>${output}`
      : html`<p class="msg msg-error" role="alert" data-reason="${r.reason}">${t('test_failed', { reason: r.reason, message: r.message })}</p>${output}`;
    return sendHtml(reply, await devicePage(req, p, dev, { frame, test: result }));
  });

  // ---- live view over Server-Sent Events: told by the live feed, not polling ----
  const open = new Set<import('node:http').ServerResponse>();
  // open streams would keep the server from closing
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });
  app.get('/devices/:id/live', async (req, reply) => {
    const p = needUser(req);
    const dev = visibleDevice(req, p);
    const f = liveFilter((req.query as Record<string, string | undefined>).show);
    const q = req.query as Record<string, string | undefined>;
    // start after what the page showed when it was rendered (t: its time, rid: its newest rejection)
    let afterTime = Number.isFinite(Number(q.t)) && Number(q.t) > 0 ? Number(q.t) : Date.now();
    let afterId = Number.isSafeInteger(Number(q.rid)) && Number(q.rid) >= 0 ? Number(q.rid) : 0;
    const sent = new Set<number>();
    for (const e of await uplinksOf(ctx.db, dev.id, afterTime - 10_000, 100)) if (e.receivedAt <= afterTime) sent.add(e.time);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const i = req.web.i;
    const t = dt(i);
    let busy = false;
    let again = false;
    let closed = false;
    const tick = async (): Promise<void> => {
      if (closed) return;
      if (busy) {
        again = true; // told while reading: read once more when done
        return;
      }
      busy = true;
      again = false;
      try {
        // a little overlap: a batch committed late may carry an earlier receive time
        const entries = await liveEntries(dev, p, f, afterTime - 10_000, afterId, 50);
        for (const e of entries.reverse()) {
          if (e.kind === 'uplink') {
            if (sent.has(e.time)) continue;
            sent.add(e.time);
            afterTime = Math.max(afterTime, e.receivedAt);
          } else afterId = Math.max(afterId, e.id);
          res.write(`event: entry\ndata: ${JSON.stringify({ kind: e.kind, html: liveRow(i, t, e).value })}\n\n`);
        }
        if (sent.size > 500) for (const k of [...sent].slice(0, 250)) sent.delete(k);
      } catch (err) {
        req.log.warn({ err, deviceId: dev.id }, 'device live view poll failed');
      } finally {
        busy = false;
      }
      if (again) return tick();
    };
    // the feed says when this device's uplinks are committed or rejected; a slow sweep catches what another
    // process (ROLES split, $share group) stored, which this process's feed never hears of
    const unsubscribe = d.feed.onDeviceReadings(dev.id, () => void tick());
    const timer = setInterval(tick, SWEEP_MS);
    const hb = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    hb.unref();
    res.write(`event: hello\ndata: {}\n\n`);
    void tick(); // what arrived between rendering the page and opening this stream
    const stop = () => {
      closed = true;
      unsubscribe();
      clearInterval(timer);
      clearInterval(hb);
      open.delete(res);
    };
    open.add(res);
    req.raw.on('close', stop);
  });
}

function liveRow(i: I18n, t: ReturnType<typeof dt>, e: Awaited<ReturnType<typeof uplinksOf>>[number] | Awaited<ReturnType<typeof rejectionsOf>>[number]): Html {
  if (e.kind === 'uplink') {
    const meta = [
      e.fCnt !== null ? `fCnt ${e.fCnt}` : '',
      e.fPort !== null ? `fPort ${e.fPort}` : '',
      e.rssi !== null ? `${i.num(e.rssi, 0)} dBm` : '',
      e.snr !== null ? `SNR ${i.num(e.snr, 1)}` : '',
      e.source,
    ]
      .filter(Boolean)
      .join(' · ');
    return html`<tr class="uplink" data-kind="uplink"><td>${i.time(e.receivedAt)}</td><td><span class="sev sev-ok">${t('kind_uplink')}</span></td>
<td>${e.values.map((x) => html`<span class="metric${x.quality ? ' flagged' : ''}">${x.metric} = ${i.num(x.value, 3)} ${unit(x.metric)}</span> `)}<br><small class="muted">${meta}</small></td></tr>`;
  }
  return html`<tr class="rejected" data-kind="rejected" data-reason="${e.reason}"><td>${i.time(e.receivedAt)}</td><td><span class="sev sev-severe">${t('kind_rejected')}</span></td>
<td><strong class="reason">${e.reason}</strong>: ${e.message}<br><small class="muted mono">${e.topic} · ${e.payload.slice(0, 160)}</small></td></tr>`;
}
