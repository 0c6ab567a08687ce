// Open data in the console: a municipality's admin switches publication on or off (licence, publisher,
// contact) and chooses per station whether it is published, follows the municipality, or is never published.
// The same validation, storage and audit entries as PUT /api/v1/orgs/{org}/open-data and PATCH
// /api/v1/devices/{id} {public}. [issue 15] [docs/opendata.md]
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit } from '../../audit-store.ts';
import type { Principal } from '../../auth/token-store.ts';
import type { Device } from '../../devices/device-registry.ts';
import { getOpenData, LICENSES, putOpenData } from '../../opendata/open-data-settings.ts';
import { openDataBody } from '../../opendata/settings-routes.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebForbidden } from '../context.ts';
import { csrfField, type FieldErrors, inputField, selectField, zodFieldErrors } from '../form.ts';
import { type Html, html } from '../html.ts';
import { openDataWord, type OpenDataWord as Word } from '../i18n-open-data.ts';
import { layout, message } from '../layout.ts';

/** The municipality the page is about: an admin's own; an installation admin picks one (?org=). */
function orgOf(p: Principal, wanted: string | undefined, known: string[]): string {
  if (p.org !== null) {
    if (wanted && wanted !== p.org) throw new WebForbidden();
    return p.org;
  }
  return wanted && /^[a-z0-9][a-z0-9-]{0,39}$/.test(wanted) ? wanted : (known[0] ?? 'default');
}

const publicValue = (d: Device) => (d.public === null ? 'follow' : d.public ? 'yes' : 'no');

export async function openDataPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const by = (p: { session: { user: { login: string } } }) => `web:${p.session.user.login}`;
  const orgsKnown = () => [...new Set(ctx.devices.list().map((x) => x.org))].sort();

  interface Form {
    enabled: boolean;
    license: string;
    publisher: string;
    contact: string;
  }
  const page = async (req: FastifyRequest, p: Principal, org: string, o: { form?: Form; errors?: FieldErrors; ok?: string } = {}) => {
    const v = view(req);
    const w = (k: Word) => openDataWord(v.i, k);
    const s = await getOpenData(ctx.db, org);
    const f: Form = o.form ?? { enabled: s.enabled, license: s.license, publisher: s.publisher ?? '', contact: s.contact ?? '' };
    const devices = ctx.devices
      .list()
      .filter((x) => x.org === org)
      .sort((a, b) => a.id.localeCompare(b.id));
    const csrf = v.session?.csrf;
    const base = `${req.protocol}://${req.host}`;
    const orgPicker: Html | string =
      p.org === null
        ? html`<form method="get" action="/admin/open-data" class="inline">${selectField({
            name: 'org',
            label: w('org'),
            value: org,
            prefix: 'od',
            options: [...new Set([...orgsKnown(), org])].sort().map((x) => ({ value: x, label: x })),
          })}<button type="submit">${w('choose')}</button></form>`
        : '';
    const body = html`<section><h1>${w('title')}</h1><p class="muted">${w('intro')}</p>${orgPicker}
${message('ok', o.ok)}
<p class="od-state" data-enabled="${String(s.enabled)}">${s.enabled ? w('on') : w('off')}</p>
<form method="post" action="/admin/open-data" class="stack narrow" novalidate data-form="open-data">${csrfField(csrf)}<input type="hidden" name="org" value="${org}">
<div class="field"><label><input type="checkbox" name="enabled" value="on"${f.enabled ? html` checked` : ''}> ${w('enabled')}</label></div>
${selectField({ name: 'license', label: w('license'), value: f.license, error: o.errors?.license, prefix: 'od', options: Object.entries(LICENSES).map(([k, x]) => ({ value: k, label: x.title })) })}
${inputField({ name: 'publisher', label: w('publisher'), value: f.publisher, error: o.errors?.publisher, prefix: 'od' })}
${inputField({ name: 'contact', label: w('contact'), value: f.contact, error: o.errors?.contact, prefix: 'od', attrs: [['autocomplete', 'email']] })}
<button type="submit" class="primary">${w('save')}</button></form>
<h2>${w('stations')}</h2>
${
  devices.length
    ? html`<form method="post" action="/admin/open-data/devices" data-form="open-data-devices">${csrfField(csrf)}<input type="hidden" name="org" value="${org}">
<div class="table-wrap"><table class="open-data-devices"><thead><tr><th scope="col">${w('station')}</th><th scope="col">${w('choice')}</th><th scope="col">${w('visible')}</th></tr></thead>
<tbody>${devices.map((x) => {
        const visible = s.enabled && x.public !== false;
        return html`<tr data-device="${x.id}"><td>${x.name} <small class="muted">${x.id}</small></td>
<td><select name="public.${x.id}" aria-label="${w('choice')}: ${x.name}">${(['follow', 'yes', 'no'] as const).map(
          (c) => html`<option value="${c}"${publicValue(x) === c ? html` selected` : ''}>${w(c)}</option>`,
        )}</select></td><td class="visible" data-visible="${String(visible)}">${visible ? w('visible_yes') : w('visible_no')}</td></tr>`;
      })}</tbody></table></div>
<button type="submit">${w('save_stations')}</button></form>`
    : html`<p>${w('none')}</p>`
}
<h2>${w('links')}</h2><ul class="od-links">
<li><a href="${base}/sta/v1.1/Things">${base}/sta/v1.1/Things</a> (OGC SensorThings API v1.1)</li>
<li><a href="${base}/dcat/catalog.jsonld">${base}/dcat/catalog.jsonld</a> (DCAT-AP.de)</li>
<li><a href="${base}/open/cap/${org}/alerts.atom">${base}/open/cap/${org}/alerts.atom</a> (CAP 1.2)</li>
</ul></section>`;
    return layout(v, { title: w('title'), page: 'open-data', body });
  };

  app.get('/admin/open-data', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    const org = orgOf(p, (req.query as { org?: string }).org, orgsKnown());
    return sendHtml(reply, await page(req, p, org));
  });

  app.post('/admin/open-data', async (req, reply) => {
    const p = needUser(req, 'tokens:write'); // as the API: publishing is the municipality admin's decision
    checkCsrf(req);
    const org = orgOf(p, field(req.body, 'org'), orgsKnown());
    const form: Form = {
      enabled: field(req.body, 'enabled') === 'on',
      license: field(req.body, 'license'),
      publisher: field(req.body, 'publisher').trim(),
      contact: field(req.body, 'contact').trim(),
    };
    const parsed = openDataBody.safeParse({
      enabled: form.enabled,
      license: form.license,
      publisher: form.publisher || null,
      contact: form.contact || null,
    });
    if (!parsed.success) return sendHtml(reply, await page(req, p, org, { form, errors: zodFieldErrors(parsed.error) }), 400);
    const b = parsed.data;
    await ctx.db.transaction(async (tx) => {
      await putOpenData(tx, { org, enabled: b.enabled, license: b.license, publisher: b.publisher ?? null, contact: b.contact ?? null });
      await audit(tx, by(p), 'update', 'open-data', org, b);
    });
    return sendHtml(reply, await page(req, p, org, { ok: openDataWord(req.web.i, 'saved') }));
  });

  app.post('/admin/open-data/devices', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    checkCsrf(req);
    const org = orgOf(p, field(req.body, 'org'), orgsKnown());
    const values: Record<string, boolean | null> = { follow: null, yes: true, no: false };
    for (const dev of ctx.devices.list().filter((x) => x.org === org)) {
      const choice = field(req.body, `public.${dev.id}`);
      if (!(choice in values) || values[choice] === dev.public) continue;
      await ctx.devices.update(dev.id, { public: values[choice] }, (tx) => audit(tx, by(p), 'update', 'device', dev.id, { public: values[choice] }));
    }
    return sendHtml(reply, await page(req, p, org, { ok: openDataWord(req.web.i, 'saved') }));
  });
}
