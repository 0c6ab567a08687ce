// The web console: server-rendered pages in the API's fastify process, on the same port. [issue 13]
// Pages live in pages/, one plugin each; assets come from public/ and from node_modules (Leaflet, uPlot).
import { createRequire } from 'node:module';
import path from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';
import { fromPackageRoot } from '../package-root.ts';
import { errorPage, LANG_COOKIE, SESSION_COOKIE, WebCsrf, type WebDeps, WebForbidden, WebNotFound, WebRedirect } from './context.ts';
import type { LiveFeed } from './feed.ts';
import { startAlarmPoll } from './feed-poll.ts';
import { i18n, pickLang } from './i18n.ts';
import { accountPages } from './pages/account.ts';
import { adminPages } from './pages/admin.ts';
import { alarmPages } from './pages/alarm.ts';
import { catchmentPages } from './pages/catchments.ts';
import { devicePages } from './pages/devices.ts';
import { eventPages } from './pages/events.ts';
import { lagebildPages } from './pages/lagebild.ts';
import { openDataPages } from './pages/open-data.ts';
import { orgAdminPages } from './pages/org-admin.ts';
import { quickAckPages } from './pages/quick-ack.ts';
import { routePages } from './pages/routes.ts';
import { rulePages } from './pages/rules.ts';
import { silencePages } from './pages/silences.ts';
import { stationPages } from './pages/station.ts';
import { startUserSocket } from './user-socket.ts';
import { principalOf, SessionStore, UserStore } from './users.ts';
import { userApiRoutes } from './users-api.ts';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** Content-Security-Policy of every page: scripts and styles only from files of this server. */
export function contentSecurityPolicy(tilesUrl: string | null): string {
  let tiles = '';
  if (tilesUrl) {
    try {
      const u = new URL(tilesUrl.replace(/\{[a-z]\}/g, 'a'));
      tiles = ` ${u.protocol}//${u.host.replace(/^a\./, '*.')}`;
    } catch {
      tiles = '';
    }
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${tiles}`,
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function webConsole(app: FastifyInstance, o: { ctx: AppContext; feed: LiveFeed }) {
  const { ctx, feed } = o;
  const users = new UserStore(ctx.db);
  const sessions = new SessionStore(ctx.db);
  const deps: WebDeps = { ctx, feed, users, sessions };

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });

  for (const [prefix, root] of [
    ['/assets/app/', fromPackageRoot('services/web/public')], // the same from tsx and from dist (Dockerfile copies it)
    ['/assets/leaflet/', path.join(pkgDir('leaflet'), 'dist')],
    ['/assets/uplot/', path.join(pkgDir('uplot'), 'dist')],
  ] as const) {
    await app.register(fastifyStatic, { root, prefix, decorateReply: false, maxAge: '1h', index: false, wildcard: true });
  }

  await userApiRoutes(app, users, ctx.db);
  // the embedded store is this process's alone: `npm run user` reaches it through this server
  if (!ctx.config.databaseUrl) {
    const close = startUserSocket(ctx.config.dataDir, users, ctx.log);
    if (close) app.addHook('onClose', close);
  }

  // on a shared PostgreSQL other processes change alarms too; their changes reach these pages within ~1 s
  if (ctx.config.databaseUrl) {
    const poll = startAlarmPoll(ctx.db, feed, ctx.log.child({ component: 'web' }));
    app.addHook('onClose', async () => poll.stop());
  }

  await app.register(async (pages) => {
    pages.decorateRequest('web', null as never);
    // Pages, form posts, live streams and the pages' own JSON are the console, not the API: they answer a
    // browser with a session cookie, so /openapi.json leaves them out. Their JSON routes still carry a
    // response schema (console-schemas.ts). [docs/api.md]
    pages.addHook('onRoute', (r) => {
      r.schema = { ...r.schema, hide: true };
    });
    const csp = contentSecurityPolicy(ctx.config.mapTiles.url);
    pages.addHook('onRequest', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const lang = pickLang(q.lang, req.cookies[LANG_COOKIE], req.headers['accept-language']);
      if (q.lang === 'de' || q.lang === 'en') reply.setCookie(LANG_COOKIE, q.lang, { path: '/', sameSite: 'lax', maxAge: 365 * 86_400 });
      const session = await sessions.get(req.cookies[SESSION_COOKIE]);
      req.web = { i: i18n(lang), session, principal: session ? principalOf(session.user) : undefined, wall: q.wall === '1' };
      reply.header('content-security-policy', csp);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('x-frame-options', 'DENY');
      reply.header('cache-control', 'no-store');
    });
    pages.setErrorHandler((err, req, reply) => {
      if (err instanceof WebRedirect) return reply.redirect(err.to, 303);
      if (!req.web) req.web = { i: i18n('de'), wall: false };
      if (err instanceof WebForbidden) return errorPage(req, reply, 403, 'forbidden');
      if (err instanceof WebNotFound) return errorPage(req, reply, 404, 'notfound');
      if (err instanceof WebCsrf) return errorPage(req, reply, 403, 'csrf');
      const e = err as { statusCode?: number };
      if (e.statusCode === 429) return reply.code(429).type('text/plain; charset=utf-8').send(req.web.i.t('login_limited'));
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return errorPage(req, reply, e.statusCode, 'notfound');
      req.log.error({ err, reqId: req.id }, 'console page failed');
      return errorPage(req, reply, 500, 'error');
    });
    for (const register of [
      accountPages,
      lagebildPages,
      eventPages,
      alarmPages,
      stationPages,
      adminPages,
      rulePages,
      quickAckPages,
      silencePages,
      routePages,
      catchmentPages,
    ])
      await register(pages, deps);
    // the device and administration pages (issue 14)
    await devicePages(pages, deps);
    await orgAdminPages(pages, deps);
    await openDataPages(pages, deps);
  });
}
