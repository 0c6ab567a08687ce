// Municipalities sharing one installation (interkommunale Kooperation). [README.md "Several municipalities"]
// Every device, rule, route and silence belongs to one org; a token with an org is confined to it.
import { z } from 'zod';

export const DEFAULT_ORG = 'default';
export const ORG_RE = /^[a-z0-9-]{1,40}$/;
export const orgSchema = z.string().regex(ORG_RE, 'org: lowercase letters, digits and - only, at most 40');

/**
 * Reserved tag the rule engine and the route/silence matchers see on every device: rules, routes and
 * silences get the same tag as a condition, so an org's rules only ever apply to its own devices, even when
 * they select by tags. Never stored, never shown in the API.
 */
export const ORG_TAG = '_org';

/** A device's tags as the matchers see them: its own tags plus the reserved org tag (which always wins). */
export function orgTags(d: { tags: Record<string, string>; org: string } | undefined): Record<string, string> {
  return { ...(d?.tags ?? {}), [ORG_TAG]: d?.org ?? DEFAULT_ORG };
}

/** A matcher (rule scope, route match, silence match) narrowed to one org. */
export function withOrg<T extends { tags?: Record<string, string> }>(m: T, org: string): T {
  return { ...m, tags: { ...(m.tags ?? {}), [ORG_TAG]: org } };
}

/** SQL expression: a silence's `match` with the org condition added (for queries over the silences table). */
export const SILENCE_MATCH_SQL = `jsonb_set(match, '{tags}', coalesce(match->'tags', '{}'::jsonb) || jsonb_build_object('${ORG_TAG}', org))`;
