// Who may do what over HTTP: role permissions and municipality (org) scoping for route handlers. [docs/security.md]
import type { FastifyRequest } from 'fastify';
import { DEFAULT_ORG } from '../auth/orgs.ts';
import { allowed, type Permission } from '../auth/roles.ts';
import type { Principal } from '../auth/token-store.ts';
import { ApiError, notFound } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Throws 403 unless the caller's role carries the permission. */
export function need(req: FastifyRequest, perm: Permission): Principal {
  const p = req.principal;
  if (!p) throw new ApiError('UNAUTHORIZED', 'missing bearer token');
  if (!allowed(p.role, perm)) throw new ApiError('FORBIDDEN', `role '${p.role}' may not ${perm.replace(':', ' ')}`);
  return p;
}

export const actor = (p: Principal): string => `${p.name}#${p.tokenId}`;

// ---- municipalities (orgs) [README.md "Several municipalities"] ----

/** The org a principal is confined to, or null when it acts for the whole installation. */
export const orgFilter = (p: Principal): string | null => p.org;

/** May the principal see a row of this org? */
export const sees = (p: Principal, org: string | undefined): boolean => p.org === null || p.org === org;

/** Rows of another org answer like rows that do not exist (their existence is not leaked). */
export function assertOrg(p: Principal, org: string | undefined, what: string, id: string): void {
  if (!sees(p, org)) throw notFound(what, id);
}

/**
 * The org a new or changed row gets: an installation-wide principal may name any (default: the row's
 * current org, else 'default'); a confined principal only its own.
 */
export function orgFor(p: Principal, wanted: string | undefined, current?: string): string {
  if (p.org === null) return wanted ?? current ?? DEFAULT_ORG;
  if (wanted !== undefined && wanted !== p.org) {
    throw new ApiError('FORBIDDEN', `this token belongs to municipality '${p.org}' and may not act for municipality '${wanted}'`);
  }
  return p.org;
}

/** Things the whole installation shares (MQTT credentials, codecs): not for a principal confined to one org. */
export function needInstallation(p: Principal, what: string): void {
  if (p.org !== null)
    throw new ApiError(
      'FORBIDDEN',
      `${what} are shared by the whole installation; a token of municipality '${p.org}' may not use them (ask an installation-wide admin)`,
    );
}
