// Administration of a municipality in the console: its API tokens (create with expiry, revoke, last use),
// for installation admins the municipalities themselves, and the audit log with filters. [issue 14]
// Tokens go through token-service and the log through listAudit, as GET/POST /api/v1/tokens and /audit do.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { audit, auditEntities, listAudit } from '../../audit-store.ts';
import { orgOverview } from '../../auth/org-overview.ts';
import { ORG_RE } from '../../auth/orgs.ts';
import { allowed, ROLES } from '../../auth/roles.ts';
import { createToken, revokeToken, tokenBody } from '../../auth/token-service.ts';
import type { Principal } from '../../auth/token-store.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps, WebForbidden } from '../context.ts';
import { apiFieldErrors, csrfField, type FieldErrors, inputField, isApiError, selectField, zodFieldErrors } from '../form.ts';
import { type Html, html } from '../html.ts';
import { dt } from '../i18n-devices.ts';
import { layout, message } from '../layout.ts';
import { UserError } from '../users.ts';
import { secretBox } from './access.ts';
import { berlinTime } from './station.ts';

type T = ReturnType<typeof dt>;

/** Links between the administration pages, each only for those who may open it. */
export function adminSubnav(t: T, i: { t: (k: 'nav_users' | 'nav_audit') => string }, p: Principal, current: string): Html {
  const links: [string, string, boolean][] = [
    ['/admin/users', i.t('nav_users'), allowed(p.role, 'tokens:write')],
    ['/admin/tokens', t('nav_tokens'), allowed(p.role, 'tokens:write')],
    ['/admin/orgs', t('nav_orgs'), p.org === null && allowed(p.role, 'tokens:write')],
    ['/audit', i.t('nav_audit'), allowed(p.role, 'audit:read')],
  ];
  return html`<nav class="subnav" aria-label="${t('nav_orgs')}">${links
    .filter((l) => l[2])
    .map((l) => html`<a href="${l[0]}"${l[0] === current ? html` aria-current="page"` : ''}>${l[1]}</a>`)}</nav>`;
}

export async function orgAdminPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;
  const by = (p: { session: { user: { login: string } } }) => `web:${p.session.user.login}`;

  // ---- API tokens ----
  interface TokForm {
    name: string;
    role: string;
    org: string;
    expiresAt: string;
  }
  const tokenPage = async (req: FastifyRequest, p: Principal, o: { form?: Partial<TokForm>; errors?: FieldErrors; secret?: Html; ok?: string } = {}) => {
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const list = await ctx.tokens.list(p.org);
    const csrf = v.session?.csrf;
    const now = Date.now();
    const body = html`<section>${adminSubnav(t, i, p, '/admin/tokens')}<h1>${t('tok_title')}</h1>
${o.secret ?? ''}${message('ok', o.ok)}
${
  list.length
    ? html`<div class="table-wrap"><table class="tokens"><thead><tr><th scope="col">${t('tok_name')}</th><th scope="col">${t('tok_role')}</th>${p.org === null ? html`<th scope="col">${t('col_org')}</th>` : ''}<th scope="col">${t('tok_created')}</th><th scope="col">${t('tok_last_used')}</th><th scope="col">${t('tok_expires')}</th><th scope="col">${t('actions')}</th></tr></thead>
<tbody>${list.map(
        (
          x,
        ) => html`<tr data-token="${x.id}"><td>${x.name} <small class="muted">#${x.id}</small></td><td>${x.role}</td>${p.org === null ? html`<td>${x.org ?? '–'}</td>` : ''}<td>${i.time(x.createdAt)}<br><small class="muted">${x.createdBy ?? ''}</small></td>
<td>${x.lastUsedAt ? i.time(x.lastUsedAt) : t('tok_never')}</td><td${x.expiresAt && Date.parse(x.expiresAt) < now ? html` class="expired"` : ''}>${x.expiresAt ? i.time(x.expiresAt) : t('tok_no_expiry')}</td>
<td><form method="post" action="/admin/tokens/revoke" class="inline">${csrfField(csrf)}<input type="hidden" name="id" value="${x.id}"><button type="submit" class="danger" aria-label="${t('tok_revoke')}: ${x.name}">${t('tok_revoke')}</button></form></td></tr>`,
      )}</tbody></table></div>`
    : html`<p>${t('tok_empty')}</p>`
}
<h2>${t('tok_create')}</h2><form method="post" action="/admin/tokens" class="stack narrow" novalidate>${csrfField(csrf)}
${inputField({ name: 'name', label: t('tok_name'), value: o.form?.name, error: o.errors?.name, required: true, prefix: 't' })}
${selectField({ name: 'role', label: t('tok_role'), value: o.form?.role ?? 'viewer', error: o.errors?.role, prefix: 't', options: ROLES.map((r) => ({ value: r, label: r })) })}
${p.org === null ? inputField({ name: 'org', label: t('col_org'), value: o.form?.org, error: o.errors?.org, prefix: 't' }) : ''}
${inputField({ name: 'expiresAt', label: t('tok_expires'), value: o.form?.expiresAt, error: o.errors?.expiresAt, type: 'datetime-local', prefix: 't' })}
<button type="submit" class="primary">${t('tok_create')}</button></form></section>`;
    return layout(v, { title: t('tok_title'), page: 'tokens', body, scripts: ['/assets/app/devices.js'] });
  };

  app.get('/admin/tokens', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    return sendHtml(reply, await tokenPage(req, p));
  });

  app.post('/admin/tokens', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    checkCsrf(req);
    const form: TokForm = {
      name: field(req.body, 'name').trim(),
      role: field(req.body, 'role'),
      org: field(req.body, 'org').trim(),
      expiresAt: field(req.body, 'expiresAt'),
    };
    const errors: FieldErrors = {};
    // the browser sends wall-clock time; it is Europe/Berlin time, as every time on these pages
    const exp = form.expiresAt ? berlinTime(form.expiresAt) : undefined;
    if (form.expiresAt && exp === undefined) errors.expiresAt = 'YYYY-MM-DDTHH:mm';
    const parsed = tokenBody.safeParse({
      name: form.name,
      role: form.role,
      ...(form.org ? { org: form.org } : {}),
      ...(exp !== undefined ? { expiresAt: new Date(exp).toISOString() } : {}),
    });
    if (!parsed.success) Object.assign(errors, zodFieldErrors(parsed.error));
    if (!parsed.success || Object.keys(errors).length) return sendHtml(reply, await tokenPage(req, p, { form, errors }), 400);
    try {
      const tk = await createToken(ctx, p, by(p), parsed.data);
      const t = dt(req.web.i);
      return sendHtml(reply, await tokenPage(req, p, { secret: secretBox('new-secret', t('tok_once', { name: tk.name }), tk.token, t) }), 201);
    } catch (e) {
      if (!isApiError(e)) throw e;
      return sendHtml(reply, await tokenPage(req, p, { form, errors: apiFieldErrors(e, e.code === 'FORBIDDEN' ? 'org' : 'name') }), e.statusCode);
    }
  });

  app.post('/admin/tokens/revoke', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    checkCsrf(req);
    const id = field(req.body, 'id');
    await revokeToken(ctx, p, by(p), id);
    return sendHtml(reply, await tokenPage(req, p, { ok: dt(req.web.i)('tok_revoked', { id }) }));
  });

  // ---- municipalities (installation admins) ----
  const orgsPage = async (req: FastifyRequest, p: Principal, o: { form?: Record<string, string>; errors?: FieldErrors; ok?: string } = {}) => {
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const list = await orgOverview(ctx.db);
    const body = html`<section>${adminSubnav(t, i, p, '/admin/orgs')}<h1>${t('orgs_title')}</h1><p class="muted">${t('orgs_intro')}</p>
${message('ok', o.ok)}
<div class="table-wrap"><table class="orgs"><thead><tr><th scope="col">${t('orgs_id')}</th><th scope="col">${t('orgs_devices')}</th><th scope="col">${t('orgs_users')}</th><th scope="col">${t('orgs_tokens')}</th><th scope="col">${t('orgs_alarms')}</th></tr></thead>
<tbody>${list.map((x) => html`<tr data-org="${x.org}"><td><a href="/devices?org=${encodeURIComponent(x.org)}">${x.org}</a></td><td class="num">${x.devices}</td><td class="num">${x.users}</td><td class="num">${x.tokens}</td><td class="num">${x.openAlarms}</td></tr>`)}</tbody></table></div>
<h2>${t('orgs_create')}</h2><form method="post" action="/admin/orgs" class="stack narrow" novalidate>${csrfField(v.session?.csrf)}
${inputField({ name: 'org', label: t('orgs_id'), value: o.form?.org, error: o.errors?.org, required: true, help: 'a-z 0-9 -', prefix: 'o' })}
${inputField({ name: 'login', label: t('orgs_admin_login'), value: o.form?.login, error: o.errors?.login, required: true, prefix: 'o', attrs: [['autocomplete', 'off']] })}
${inputField({ name: 'name', label: t('orgs_admin_name'), value: o.form?.name, error: o.errors?.name, prefix: 'o' })}
${inputField({ name: 'password', label: t('orgs_admin_pw'), error: o.errors?.password, type: 'password', required: true, prefix: 'o', attrs: [['autocomplete', 'new-password']] })}
<button type="submit" class="primary">${t('orgs_create')}</button></form></section>`;
    return layout(v, { title: t('orgs_title'), page: 'orgs', body });
  };
  const installationAdmin = (req: FastifyRequest) => {
    const p = needUser(req, 'tokens:write');
    if (p.org !== null) throw new WebForbidden();
    return p;
  };

  app.get('/admin/orgs', async (req, reply) => sendHtml(reply, await orgsPage(req, installationAdmin(req))));

  // `/admin` itself [README.md Web console]: the first administration page this person may open
  app.get('/admin', async (req, reply) => {
    const p = needUser(req);
    if (allowed(p.role, 'tokens:write')) return reply.redirect('/admin/users', 303);
    if (allowed(p.role, 'audit:read')) return reply.redirect('/audit', 303);
    throw new WebForbidden();
  });

  app.post('/admin/orgs', async (req, reply) => {
    const p = installationAdmin(req);
    checkCsrf(req);
    const form = { org: field(req.body, 'org').trim(), login: field(req.body, 'login').trim(), name: field(req.body, 'name').trim() };
    if (!ORG_RE.test(form.org)) return sendHtml(reply, await orgsPage(req, p, { form, errors: { org: 'a-z 0-9 -, 1–40' } }), 400);
    try {
      // the same store and audit entry as POST /api/v1/users with an org
      const u = await d.users.create({ login: form.login, name: form.name, role: 'admin', org: form.org, password: field(req.body, 'password') }, by(p));
      await audit(ctx.db, by(p), 'create', 'user', u.login, { role: u.role, org: u.org });
      return sendHtml(reply, await orgsPage(req, p, { ok: dt(req.web.i)('orgs_created', { org: form.org, login: u.login }) }), 201);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const key = /password/.test(e.message) ? 'password' : 'login';
      return sendHtml(reply, await orgsPage(req, p, { form, errors: { [key]: e.message } }), 400);
    }
  });

  // ---- audit log with filters ----
  app.get('/audit', async (req, reply) => {
    const p = needUser(req, 'audit:read');
    const q = req.query as Record<string, string | undefined>;
    const v = view(req);
    const { i } = v;
    const t = dt(i);
    const entities = await auditEntities(ctx.db);
    const f = {
      entity: q.entity && entities.includes(q.entity) ? q.entity : '',
      actor: (q.actor ?? '').trim().slice(0, 100),
      since: q.since && berlinTime(q.since) !== undefined ? q.since : '',
    };
    const since = f.since ? berlinTime(f.since) : undefined;
    const rows = await listAudit(ctx.db, {
      entity: f.entity || undefined,
      actor: f.actor || undefined,
      since: since !== undefined ? new Date(since).toISOString() : undefined,
      limit: 200,
      org: p.org,
    });
    const body = html`<section>${adminSubnav(t, i, p, '/audit')}<h1>${i.t('audit_title')}</h1>
<form method="get" action="/audit" class="filters" role="search">
${selectField({ name: 'entity', label: t('audit_filter_entity'), value: f.entity, prefix: 'a', options: [{ value: '', label: t('filter_all') }, ...entities.map((e) => ({ value: e, label: e }))] })}
${inputField({ name: 'actor', label: t('audit_filter_actor'), value: f.actor, type: 'search', prefix: 'a' })}
${inputField({ name: 'since', label: t('audit_filter_since'), value: f.since, type: 'datetime-local', prefix: 'a' })}
<button type="submit">${t('filter_apply')}</button></form>
<div class="table-wrap"><table class="audit"><thead><tr><th scope="col">${i.t('col_time')}</th><th scope="col">${i.t('audit_actor')}</th><th scope="col">${i.t('audit_action')}</th><th scope="col">${i.t('audit_entity')}</th><th scope="col">${t('audit_details')}</th></tr></thead>
<tbody>${rows.map((x) => html`<tr data-entity="${x.entity}"><td>${i.time(x.at)}</td><td>${x.actor}</td><td>${x.action}</td><td>${x.entity} ${x.entityId ?? ''}</td><td><small class="mono">${x.details ? JSON.stringify(x.details).slice(0, 200) : ''}</small></td></tr>`)}</tbody></table></div></section>`;
    return sendHtml(reply, layout(v, { title: i.t('audit_title'), page: 'audit', body }));
  });
}
