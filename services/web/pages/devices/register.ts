// Registering a device: the model picker with the model's documentation and parameters, the map to pick
// the location; through the same device service as POST /api/v1/devices. [issue 14]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tryParseDuration } from '../../../../alerts/rules/duration.ts';
import { sees } from '../../../api/auth.ts';
import type { Principal } from '../../../auth/token-store.ts';
import { deviceBody, registerDevice } from '../../../devices/device-service.ts';
import { codecsOf } from '../../../ingest/codec-service.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps } from '../../context.ts';
import { docText, MODEL_DOCS } from '../../device-models.ts';
import { apiFieldErrors, csrfField, type FieldErrors, inputField, isApiError, parsePairs, selectField, zodFieldErrors } from '../../form.ts';
import { html, jsonBlock } from '../../html.ts';
import { dt } from '../../i18n-devices.ts';
import { layout, message } from '../../layout.ts';
import { ALL_MODELS } from './health.ts';

export function registerPages(app: FastifyInstance, d: WebDeps): void {
  const { ctx } = d;

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
}
