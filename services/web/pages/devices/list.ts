// The device list: each device's health (last seen, interval against the expected one, battery, RSSI/SNR,
// open alarms, stale or offline) with filters. [issue 14]
import type { FastifyInstance } from 'fastify';
import type { Alarm } from '../../../../alerts/types.ts';
import { orgFilter, sees } from '../../../api/auth.ts';
import { allowed } from '../../../auth/roles.ts';
import { fleetHealth } from '../../../devices/fleet-health.ts';
import { needUser, sendHtml, view, type WebDeps } from '../../context.ts';
import { inputField, selectField } from '../../form.ts';
import { html } from '../../html.ts';
import { dt } from '../../i18n-devices.ts';
import { layout } from '../../layout.ts';
import { openAlarms } from '../../situation.ts';
import { deviceSubnav } from '../access.ts';
import { ALL_MODELS, batteryText, healthBadge, healthOf, intervalText, parseListFilters, radioText } from './health.ts';

export function listPage(app: FastifyInstance, d: WebDeps): void {
  const { ctx } = d;
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
}
