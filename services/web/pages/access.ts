// MQTT credentials and codecs in the console: the integrator's side of connecting a gauge. [issue 14]
// Credentials: list for operators and integrators (never for responders and viewers), create/rotate/delete
// for integrators; a password is shown once, with a copy button. Codecs: installation-wide accounts only.
// Everything goes through the services the JSON API uses (credential-service, codec-service).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createCredential, credentialBody, removeCredential, rotateCredential } from '../../auth/credential-service.ts';
import { allowed } from '../../auth/roles.ts';
import type { Principal } from '../../auth/token-store.ts';
import { codecBody, codecsOf, saveCodec, type TestDecode } from '../../ingest/codec-service.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebForbidden } from '../context.ts';
import { apiFieldErrors, csrfField, type FieldErrors, inputField, isApiError, lines, parsePairs, textareaField, zodFieldErrors } from '../form.ts';
import { type Html, html } from '../html.ts';
import { dt } from '../i18n-devices.ts';
import { layout, message } from '../layout.ts';

type T = ReturnType<typeof dt>;

/** The links between the device pages, each only for those who may open it. */
export function deviceSubnav(t: T, p: Principal, current: string): Html {
  const links: [string, string, boolean][] = [
    ['/devices', t('nav_devices'), true],
    ['/mqtt-credentials', t('nav_credentials'), allowed(p.role, 'credentials:read')],
    ['/codecs', t('nav_codecs'), p.org === null && allowed(p.role, 'read')],
  ];
  return html`<nav class="subnav" aria-label="${t('nav_devices')}">${links
    .filter((l) => l[2])
    .map((l) => html`<a href="${l[0]}"${l[0] === current ? html` aria-current="page"` : ''}>${l[1]}</a>`)}</nav>`;
}

/** A secret shown once, with a copy button (the button appears when the script runs). */
export function secretBox(id: string, label: string, secret: string, t: T): Html {
  return html`<div class="msg msg-ok secret" role="status"><span>${label}</span> <code id="${id}" data-secret>${secret}</code>
<button type="button" data-copy="${id}" data-done="${t('cred_copied')}" hidden>${t('cred_copy')}</button></div>`;
}

export async function accessPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;

  // ---- MQTT credentials ----
  interface CredForm {
    username: string;
    publish: string;
    subscribe: string;
  }
  const credPage = async (req: FastifyRequest, p: Principal, o: { form?: Partial<CredForm>; errors?: FieldErrors; secret?: Html; ok?: string } = {}) => {
    const v = view(req);
    const t = dt(v.i);
    const list = await ctx.credentials.list(p.org);
    const canWrite = allowed(p.role, 'credentials:write');
    const csrf = v.session?.csrf;
    const body = html`<section>${deviceSubnav(t, p, '/mqtt-credentials')}<h1>${t('cred_title')}</h1><p class="muted">${t('cred_intro')}</p>
${o.secret ?? ''}${message('ok', o.ok)}
${
  list.length
    ? html`<div class="table-wrap"><table class="credentials"><thead><tr><th scope="col">${t('cred_username')}</th><th scope="col">${t('cred_publish')}</th><th scope="col">${t('cred_created_at')}</th>${canWrite ? html`<th scope="col">${t('actions')}</th>` : ''}</tr></thead>
<tbody>${list.map(
        (
          c,
        ) => html`<tr data-username="${c.username}"><td>${c.username}</td><td>${c.publish.map((f) => html`<code>${f}</code> `)}${c.subscribe.length ? html`<br><small class="muted">sub: ${c.subscribe.join(', ')}</small>` : ''}</td><td>${v.i.time(c.createdAt)}</td>
${
  canWrite
    ? html`<td><form method="post" action="/mqtt-credentials/rotate" class="inline">${csrfField(csrf)}<input type="hidden" name="username" value="${c.username}"><button type="submit" aria-label="${t('cred_rotate')}: ${c.username}">${t('cred_rotate')}</button></form>
<form method="post" action="/mqtt-credentials/delete" class="inline">${csrfField(csrf)}<input type="hidden" name="username" value="${c.username}"><button type="submit" class="danger" aria-label="${t('cred_delete')}: ${c.username}">${t('cred_delete')}</button></form></td>`
    : ''
}</tr>`,
      )}</tbody></table></div>`
    : html`<p>${t('cred_empty')}</p>`
}
${
  canWrite
    ? html`<h2>${t('cred_create')}</h2><form method="post" action="/mqtt-credentials" class="stack narrow" novalidate>${csrfField(csrf)}
${inputField({ name: 'username', label: t('cred_username'), value: o.form?.username, error: o.errors?.username, required: true, attrs: [['autocomplete', 'off']] })}
${textareaField({ name: 'publish', label: t('cred_publish'), value: o.form?.publish ?? (p.org === null ? 'application/+/device/+/event/up' : ''), error: o.errors?.publish, rows: 3 })}
${textareaField({ name: 'subscribe', label: t('cred_subscribe'), value: o.form?.subscribe, error: o.errors?.subscribe, rows: 2 })}
<button type="submit" class="primary">${t('cred_create')}</button></form>`
    : ''
}</section>`;
    return layout(v, { title: t('cred_title'), page: 'credentials', body, scripts: ['/assets/app/devices.js'] });
  };

  app.get('/mqtt-credentials', async (req, reply) => {
    const p = needUser(req, 'credentials:read');
    return sendHtml(reply, await credPage(req, p));
  });

  app.post('/mqtt-credentials', async (req, reply) => {
    const p = needUser(req, 'credentials:write');
    checkCsrf(req);
    const form = { username: field(req.body, 'username').trim(), publish: field(req.body, 'publish'), subscribe: field(req.body, 'subscribe') };
    const parsed = credentialBody.safeParse({ username: form.username, publish: lines(form.publish), subscribe: lines(form.subscribe) });
    const firstKey = (k: string) => k.split('.')[0];
    if (!parsed.success) return sendHtml(reply, await credPage(req, p, { form, errors: zodFieldErrors(parsed.error, firstKey) }), 400);
    try {
      const c = await createCredential(ctx, p, `web:${p.session.user.login}`, parsed.data);
      const t = dt(req.web.i);
      return sendHtml(reply, await credPage(req, p, { secret: secretBox('new-secret', t('cred_password_once', { user: c.username }), c.password, t) }), 201);
    } catch (e) {
      if (!isApiError(e)) throw e;
      return sendHtml(
        reply,
        await credPage(req, p, { form, errors: apiFieldErrors(e, e.code === 'FORBIDDEN' ? 'publish' : 'username', firstKey) }),
        e.statusCode,
      );
    }
  });

  app.post('/mqtt-credentials/rotate', async (req, reply) => {
    const p = needUser(req, 'credentials:write');
    checkCsrf(req);
    const t = dt(req.web.i);
    const r = await rotateCredential(ctx, p, `web:${p.session.user.login}`, field(req.body, 'username'));
    return sendHtml(reply, await credPage(req, p, { secret: secretBox('new-secret', t('cred_password_once', { user: r.username }), r.password, t) }));
  });

  app.post('/mqtt-credentials/delete', async (req, reply) => {
    const p = needUser(req, 'credentials:write');
    checkCsrf(req);
    const username = field(req.body, 'username');
    await removeCredential(ctx, p, `web:${p.session.user.login}`, username);
    return sendHtml(reply, await credPage(req, p, { ok: dt(req.web.i)('cred_deleted', { user: username }) }));
  });

  // ---- codecs (installation-wide) ----
  interface CodecForm {
    id: string;
    source: string;
    fieldMap: string;
    bytes: string;
    fPort: string;
  }
  const installationOnly = (p: Principal) => {
    if (p.org !== null) throw new WebForbidden();
  };
  const codecPage = async (req: FastifyRequest, p: Principal, o: { form?: Partial<CodecForm>; errors?: FieldErrors; ok?: string; test?: TestDecode } = {}) => {
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const codecs = await codecsOf(ctx);
    const edit =
      o.form ??
      (() => {
        const id = (req.query as Record<string, string | undefined>).edit;
        const c = id ? codecs.get(id) : undefined;
        return c
          ? {
              id: c.id,
              source: c.source,
              fieldMap: Object.entries(c.fieldMap)
                .map(([k, x]) => `${k}=${x}`)
                .join('\n'),
            }
          : undefined;
      })();
    const canWrite = allowed(p.role, 'devices:write');
    const body = html`<section>${deviceSubnav(t, p, '/codecs')}<h1>${t('codec_title')}</h1><p class="muted">${t('codec_intro')}</p>
${message('ok', o.ok)}
${o.test ? html`<table class="decoded"><caption>${t('test_ok')}</caption><thead><tr><th scope="col">${t('col_metric')}</th><th scope="col">${t('col_value')}</th></tr></thead><tbody>${Object.entries(o.test.values).map(([m, x]) => html`<tr data-metric="${m}"><td>${m}</td><td class="num">${i.num(x, 6)}</td></tr>`)}</tbody></table>` : ''}
${
  codecs.list().length
    ? html`<div class="table-wrap"><table class="codecs"><thead><tr><th scope="col">${t('codec_id')}</th><th scope="col">${t('codec_fieldmap')}</th><th scope="col">${t('codec_size')}</th><th scope="col">${t('codec_updated')}</th></tr></thead>
<tbody>${codecs.list().map((c) => html`<tr data-codec="${c.id}"><td>${canWrite ? html`<a href="/codecs?edit=${encodeURIComponent(c.id)}">${c.id}</a>` : c.id}</td><td>${Object.entries(c.fieldMap).map(([k, x]) => html`<code>${k}=${x}</code> `)}</td><td>${c.sourceBytes} B</td><td>${i.time(c.updatedAt)}</td></tr>`)}</tbody></table></div>`
    : html`<p>${t('codec_empty')}</p>`
}
${
  canWrite
    ? html`<h2>${t('codec_save')}</h2><form method="post" action="/codecs" class="stack" novalidate>${csrfField(v.session?.csrf)}
${inputField({ name: 'id', label: t('codec_id'), value: edit?.id, error: o.errors?.id, required: true, prefix: 'c' })}
${textareaField({
  name: 'source',
  label: t('codec_source'),
  value: edit?.source,
  error: o.errors?.source,
  rows: 12,
  prefix: 'c',
  attrs: [
    ['class', 'mono'],
    ['spellcheck', 'false'],
  ],
})}
${textareaField({ name: 'fieldMap', label: t('codec_fieldmap'), value: edit?.fieldMap, error: o.errors?.fieldMap, rows: 3, prefix: 'c', attrs: [['class', 'mono']] })}
<div class="latlon">
${inputField({
  name: 'bytes',
  label: t('codec_test'),
  value: o.form?.bytes,
  error: o.errors?.test ?? o.errors?.['test.bytes'],
  prefix: 'c',
  attrs: [
    ['class', 'mono'],
    ['autocomplete', 'off'],
  ],
})}
${inputField({ name: 'fPort', label: t('test_fport'), value: o.form?.fPort ?? '1', error: o.errors?.['test.fPort'], prefix: 'c', attrs: [['inputmode', 'numeric']] })}
</div>
<button type="submit" class="primary">${t('codec_save')}</button></form>`
    : ''
}</section>`;
    return layout(v, { title: t('codec_title'), page: 'codecs', body });
  };

  app.get('/codecs', async (req, reply) => {
    const p = needUser(req);
    installationOnly(p);
    return sendHtml(reply, await codecPage(req, p));
  });

  app.post('/codecs', async (req, reply) => {
    const p = needUser(req, 'devices:write');
    installationOnly(p);
    checkCsrf(req);
    const form: CodecForm = {
      id: field(req.body, 'id').trim(),
      source: field(req.body, 'source'),
      fieldMap: field(req.body, 'fieldMap'),
      bytes: field(req.body, 'bytes').replace(/\s+/g, ''),
      fPort: field(req.body, 'fPort').trim(),
    };
    const fm = parsePairs(form.fieldMap);
    const errors: FieldErrors = {};
    if (fm.bad.length) errors.fieldMap = `metric=path: ${fm.bad.join(', ')}`;
    const parsed = codecBody.safeParse({
      id: form.id,
      source: form.source,
      fieldMap: fm.pairs,
      ...(form.bytes ? { test: { bytes: form.bytes, fPort: form.fPort === '' ? Number.NaN : Number(form.fPort) } } : {}),
    });
    if (!parsed.success) Object.assign(errors, zodFieldErrors(parsed.error));
    if (!parsed.success || Object.keys(errors).length) return sendHtml(reply, await codecPage(req, p, { form, errors }), 400);
    try {
      const r = await saveCodec(ctx, p, `web:${p.session.user.login}`, parsed.data);
      return sendHtml(reply, await codecPage(req, p, { ok: dt(req.web.i)('codec_saved', { id: form.id }), test: r.test }), r.created ? 201 : 200);
    } catch (e) {
      if (!isApiError(e)) throw e;
      const rename = (k: string) => (k.startsWith('fieldMap') ? 'fieldMap' : k);
      return sendHtml(reply, await codecPage(req, p, { form, errors: apiFieldErrors(e, 'source', rename) }), e.statusCode);
    }
  });
}
