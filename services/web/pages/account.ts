// Log in, log out, change password. The login form is protected by a double-submit token (there is no
// session yet), a per-address rate limit and the per-account lockout in UserStore.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { audit } from '../../audit-store.ts';
import { checkCsrf, field, needUser, SESSION_COOKIE, safeNext, sendHtml, view, type WebDeps } from '../context.ts';
import { html } from '../html.ts';
import { layout, message, type View } from '../layout.ts';
import { SESSION_IDLE_MS, sameToken, UserError } from '../users.ts';

const PRE_COOKIE = 'rw_login';

function loginPage(v: View, o: { token: string; next: string; login?: string; error?: string }) {
  const { t } = v.i;
  return layout(v, {
    title: t('login_title'),
    page: 'login',
    body: html`<section class="narrow card">
<h1>${t('login_title')}</h1>
${message('error', o.error)}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="_csrf" value="${o.token}">
  <input type="hidden" name="next" value="${o.next}">
  <label for="username">${t('login_login')}</label>
  <input id="username" name="username" autocomplete="username" required value="${o.login ?? ''}" autofocus>
  <label for="password">${t('login_password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="primary">${t('login_submit')}</button>
</form>
</section>`,
  });
}

function passwordPage(v: View, o: { ok?: string; error?: string }) {
  const { t } = v.i;
  return layout(v, {
    title: t('pw_title'),
    page: 'password',
    body: html`<section class="narrow card">
<h1>${t('pw_title')}</h1>
${message('ok', o.ok)}${message('error', o.error)}
<form method="post" action="/account/password" class="stack">
  <input type="hidden" name="_csrf" value="${v.session?.csrf}">
  <input type="text" name="username" autocomplete="username" value="${v.session?.user.login}" hidden>
  <label for="current">${t('pw_current')}</label>
  <input id="current" name="current" type="password" autocomplete="current-password" required>
  <label for="next">${t('pw_new')}</label>
  <input id="next" name="next" type="password" autocomplete="new-password" required minlength="10">
  <label for="repeat">${t('pw_repeat')}</label>
  <input id="repeat" name="repeat" type="password" autocomplete="new-password" required minlength="10">
  <button type="submit" class="primary">${t('pw_submit')}</button>
</form>
</section>`,
  });
}

export function secureCookies(req: FastifyRequest, publicUrl: string): boolean {
  return req.protocol === 'https' || publicUrl.startsWith('https:');
}

export async function accountPages(app: FastifyInstance, d: WebDeps) {
  const secure = (req: FastifyRequest) => secureCookies(req, d.ctx.config.publicUrl);
  const freshLoginForm = (req: FastifyRequest, reply: FastifyReply, status: number, o: { next: string; login?: string; error?: string }) => {
    const token = crypto.randomBytes(18).toString('base64url');
    reply.setCookie(PRE_COOKIE, token, { path: '/login', httpOnly: true, sameSite: 'strict', secure: secure(req), maxAge: 3600 });
    return sendHtml(reply, loginPage(view(req), { token, ...o }), status);
  };

  app.get('/login', async (req, reply) => {
    const next = safeNext((req.query as Record<string, string>).next);
    if (req.web.session) return reply.redirect(next, 303);
    return freshLoginForm(req, reply, 200, { next });
  });

  app.post(
    '/login',
    { config: { rateLimit: { max: 30, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `login:${req.ip}` } } },
    async (req, reply) => {
      const next = safeNext(field(req.body, 'next'));
      // the form's field is `username` [README.md Web console]; `login` is still accepted from older scripts
      const login = (field(req.body, 'username') || field(req.body, 'login')).trim();
      const { t } = req.web.i;
      if (!sameToken(field(req.body, '_csrf'), req.cookies[PRE_COOKIE])) return freshLoginForm(req, reply, 403, { next, login, error: t('csrf_failed') });
      const r = await d.users.login(login, field(req.body, 'password'));
      if (!r.ok) {
        await audit(d.ctx.db, `web:${login.slice(0, 64)}`, r.locked ? 'login-locked' : 'login-failed', 'user', login.slice(0, 64));
        return freshLoginForm(req, reply, r.locked ? 423 : 401, { next, login, error: t(r.locked ? 'login_locked' : 'login_failed') });
      }
      const s = await d.sessions.create(r.user.id);
      reply.clearCookie(PRE_COOKIE, { path: '/login' });
      reply.setCookie(SESSION_COOKIE, s.id, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(req), maxAge: SESSION_IDLE_MS / 1000 });
      await audit(d.ctx.db, `web:${r.user.login}`, 'login', 'user', r.user.login);
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', async (req, reply) => {
    if (req.web.session) {
      checkCsrf(req);
      await d.sessions.destroy(req.cookies[SESSION_COOKIE]);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });

  app.get('/account/password', async (req, reply) => {
    needUser(req);
    return sendHtml(reply, passwordPage(view(req), {}));
  });

  app.post('/account/password', async (req, reply) => {
    const p = needUser(req);
    checkCsrf(req);
    const { t } = req.web.i;
    const next = field(req.body, 'next');
    if (next !== field(req.body, 'repeat')) return sendHtml(reply, passwordPage(view(req), { error: t('pw_mismatch') }), 400);
    try {
      const r = await d.users.changePassword(p.session.user.id, field(req.body, 'current'), next);
      if (r === 'wrong') return sendHtml(reply, passwordPage(view(req), { error: t('pw_wrong') }), 400);
    } catch (e) {
      if (e instanceof UserError) return sendHtml(reply, passwordPage(view(req), { error: t('pw_weak') }), 400);
      throw e;
    }
    await d.sessions.destroyOthers(p.session.user.id, p.session.idHash);
    await audit(d.ctx.db, `web:${p.session.user.login}`, 'change-password', 'user', p.session.user.login);
    return sendHtml(reply, passwordPage(view(req), { ok: t('pw_changed') }));
  });
}
