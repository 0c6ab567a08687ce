// What every console page gets: the request's language, session and principal, and small reply helpers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allowed, type Permission } from '../auth/roles.ts';
import type { Principal } from '../auth/token-store.ts';
import type { AppContext } from '../context.ts';
import type { LiveFeed } from './feed.ts';
import type { Html } from './html.ts';
import type { I18n } from './i18n.ts';
import { simplePage, type View } from './layout.ts';
import { principalOf, type Session, type SessionStore, sameToken, type UserStore } from './users.ts';

export const SESSION_COOKIE = 'rw_session';
export const LANG_COOKIE = 'rw_lang';

export interface WebDeps {
  ctx: AppContext;
  feed: LiveFeed;
  users: UserStore;
  sessions: SessionStore;
}

export interface WebState {
  i: I18n;
  session?: Session;
  principal?: Principal;
  wall: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    web: WebState;
  }
}

export const view = (req: FastifyRequest): View => ({ i: req.web.i, session: req.web.session, url: req.url, wall: req.web.wall });

export function sendHtml(reply: FastifyReply, page: Html, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

/** Thrown by guards; the console's error handler turns it into a page or a redirect. */
export class WebRedirect extends Error {
  constructor(readonly to: string) {
    super(to);
  }
}
export class WebForbidden extends Error {}
export class WebNotFound extends Error {}
export class WebCsrf extends Error {}

/** The logged-in principal; a guest is sent to the login page, a role without the permission gets 403. */
export function needUser(req: FastifyRequest, perm: Permission = 'read'): Principal & { session: Session } {
  const s = req.web.session;
  if (!s) throw new WebRedirect(`/login?next=${encodeURIComponent(req.url)}`);
  const p = principalOf(s.user);
  if (!allowed(p.role, perm)) throw new WebForbidden();
  return { ...p, session: s };
}

/** Every state-changing form carries the session's CSRF token (field _csrf or header x-csrf-token). */
export function checkCsrf(req: FastifyRequest): void {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const sent = typeof body._csrf === 'string' ? body._csrf : (req.headers['x-csrf-token'] as string | undefined);
  if (!sameToken(sent, req.web.session?.csrf)) throw new WebCsrf();
}

export function errorPage(req: FastifyRequest, reply: FastifyReply, status: number, kind: 'forbidden' | 'notfound' | 'csrf' | 'error') {
  const v = view(req);
  const { t } = v.i;
  const page =
    kind === 'forbidden'
      ? simplePage(v, t('forbidden_title'), t('forbidden_text'))
      : kind === 'notfound'
        ? simplePage(v, t('notfound_title'), t('notfound_text'))
        : kind === 'csrf'
          ? simplePage(v, t('forbidden_title'), t('csrf_failed'))
          : simplePage(v, t('error_title'), t('error_text', { id: req.id }));
  return sendHtml(reply, page, status);
}

/** A form field as a trimmed string ('' when absent). */
export const field = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/** Only same-site paths are followed after login. */
export const safeNext = (n: string | undefined): string => (n && /^\/(?![/\\])/.test(n) ? n : '/');
