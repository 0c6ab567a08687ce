// The users of the console (admins); the audit log and API tokens are in org-admin.ts.
// A responder or viewer gets 403 and does not see the links.
import type { FastifyInstance } from 'fastify';
import { audit } from '../../audit-store.ts';
import { ROLES } from '../../auth/roles.ts';
import { checkCsrf, field, needUser, sendHtml, view, type WebDeps } from '../context.ts';
import { html } from '../html.ts';
import { dt } from '../i18n-devices.ts';
import { layout, message } from '../layout.ts';
import { UserError } from '../users.ts';
import { adminSubnav } from './org-admin.ts';

export async function adminPages(app: FastifyInstance, d: WebDeps) {
  const { ctx } = d;

  // the audit log is in org-admin.ts, with filters

  const usersPage = async (req: Parameters<typeof needUser>[0], o: { ok?: string; error?: string } = {}) => {
    const p = needUser(req, 'tokens:write');
    const v = view(req);
    const { i } = v;
    const { t } = i;
    const list = await d.users.list(p.org);
    return layout(v, {
      title: t('users_title'),
      page: 'users',
      body: html`<section>${adminSubnav(dt(i), i, p, '/admin/users')}<h1>${t('users_title')}</h1>
${message('ok', o.ok)}${message('error', o.error)}
<table><thead><tr><th scope="col">${t('users_login')}</th><th scope="col">${t('users_name')}</th><th scope="col">${t('users_role')}</th><th scope="col">${t('users_org')}</th><th scope="col">${t('col_actions')}</th></tr></thead>
<tbody>${list.map(
        (u) => html`<tr><td>${u.login}</td><td>${u.name}</td><td>${u.role}</td><td>${u.org ?? t('users_org_all')}</td>
<td>${
          u.lockedUntil && Date.parse(u.lockedUntil) > Date.now()
            ? html`${t('users_locked', { t: i.time(u.lockedUntil) })}
<form method="post" action="/admin/users/unlock" class="inline"><input type="hidden" name="_csrf" value="${v.session?.csrf}"><input type="hidden" name="login" value="${u.login}"><button type="submit">${t('users_unlock')}</button></form>`
            : ''
        }</td></tr>`,
      )}</tbody></table>
<h2>${t('users_add')}</h2>
<form method="post" action="/admin/users" class="stack narrow">
<input type="hidden" name="_csrf" value="${v.session?.csrf}">
<label for="u-login">${t('users_login')}</label><input id="u-login" name="login" required autocomplete="off">
<label for="u-name">${t('users_name')}</label><input id="u-name" name="name">
<label for="u-role">${t('users_role')}</label><select id="u-role" name="role">${ROLES.filter((r) => r !== 'integrator').map((r) => html`<option value="${r}">${r}</option>`)}</select>
${p.org === null ? html`<label for="u-org">${t('users_org')}</label><input id="u-org" name="org" placeholder="${t('users_org_all')}">` : ''}
<label for="u-pw">${t('users_password')}</label><input id="u-pw" name="password" type="password" autocomplete="new-password" required minlength="10">
<button type="submit" class="primary">${t('users_add')}</button>
</form></section>`,
    });
  };

  app.get('/admin/users', async (req, reply) => sendHtml(reply, await usersPage(req)));

  app.post('/admin/users', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    checkCsrf(req);
    const org = p.org ?? (field(req.body, 'org').trim() || null);
    if (org !== null && !/^[a-z0-9-]{1,40}$/.test(org)) return sendHtml(reply, await usersPage(req, { error: 'org: a-z 0-9 -' }), 400);
    try {
      const u = await d.users.create(
        {
          login: field(req.body, 'login').trim(),
          name: field(req.body, 'name'),
          role: field(req.body, 'role') as never,
          org,
          password: field(req.body, 'password'),
        },
        `web:${p.session.user.login}`,
      );
      await audit(ctx.db, `web:${p.session.user.login}`, 'create', 'user', u.login, { role: u.role, org: u.org });
      return sendHtml(reply, await usersPage(req, { ok: req.web.i.t('users_created') }), 201);
    } catch (e) {
      if (e instanceof UserError) return sendHtml(reply, await usersPage(req, { error: e.message }), 400);
      throw e;
    }
  });

  app.post('/admin/users/unlock', async (req, reply) => {
    const p = needUser(req, 'tokens:write');
    checkCsrf(req);
    const u = await d.users.byLogin(field(req.body, 'login'));
    if (u && (p.org === null || u.org === p.org)) {
      await d.users.unlock(u.login);
      await audit(ctx.db, `web:${p.session.user.login}`, 'unlock', 'user', u.login);
    }
    return reply.redirect('/admin/users', 303);
  });
}
