// One device: facts and topics, the test-decode box (the same sandbox as ingest, nothing stored) and the
// live view as first rendered (devices/live.ts streams what comes after). [issue 14]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orgFilter } from '../../../api/auth.ts';
import { allowed } from '../../../auth/roles.ts';
import type { Principal } from '../../../auth/token-store.ts';
import type { Device } from '../../../devices/device-registry.ts';
import { fleetHealth } from '../../../devices/fleet-health.ts';
import { rejectionsOf } from '../../../devices/uplink-log.ts';
import { testDecodeForDevice, testFrame } from '../../../ingest/codec-service.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps } from '../../context.ts';
import { docText, modelDoc } from '../../device-models.ts';
import { csrfField, type FieldErrors, inputField, selectField, zodFieldErrors } from '../../form.ts';
import { type Html, html, jsonBlock } from '../../html.ts';
import { dt } from '../../i18n-devices.ts';
import { layout, message } from '../../layout.ts';
import { openAlarms } from '../../situation.ts';
import { batteryText, healthBadge, healthOf, intervalText, radioText, unit } from './health.ts';
import { liveEntries, liveFilter, liveRow, REJECT_REASONS } from './live.ts';

export function detailPages(app: FastifyInstance, d: WebDeps, visibleDevice: (req: FastifyRequest, p: Principal) => Device): void {
  const { ctx } = d;

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
    const entries = await liveEntries(ctx, dev, p, filter, 0, 0, 30);
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
}
