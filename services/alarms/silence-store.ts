// Silences (maintenance windows): the one place that reads and writes the silences table. A silence holds
// the notifications of the alarms it matches while it is active. [docs/api.md Endpoints (silences)]
import { type SilenceMatch, silenceMatches } from '../../alerts/routing/route-schema.ts';
import { audit } from '../audit-store.ts';
import { SILENCE_MATCH_SQL } from '../auth/orgs.ts';
import type { Db, Queryable } from '../db/db.ts';

/** Silences active at the SQL parameter `at` (e.g. '$9'), each as `match` with its org as a tag. */
export const activeSilencesSql = (at: string): string => `select ${SILENCE_MATCH_SQL} as match from silences where starts_at <= ${at} and ends_at > ${at}`;

/** The ids of the silences active at `at`, sorted (a SQL array expression): a statement compares them with the ids it was
 *  prepared under, so it writes nothing if a silence began or ended meanwhile. */
export const activeSilenceIdsSql = (at: string): string =>
  `coalesce((select array_agg(s.id order by s.id collate "C") from silences s where s.starts_at <= ${at} and s.ends_at > ${at}), '{}')`;

/** The silences active at `at` as one JSON array of `{id, match}` (a SQL expression). */
export const activeSilencesJsonSql = (at: string): string =>
  `coalesce((select json_agg(json_build_object('id', id, 'match', ${SILENCE_MATCH_SQL})) from silences where starts_at <= ${at} and ends_at > ${at}), '[]'::json)`;

/** The matches of every silence active at `at`. */
export async function activeSilences(q: Queryable, at: Date): Promise<SilenceMatch[]> {
  return (await q.query<{ match: SilenceMatch }>(activeSilencesSql('$1'), [at])).rows.map((r) => r.match);
}

/** Does any of these silences hold an alarm of this rule and device (with the device's tags, org included)? */
export const silenced = (silences: SilenceMatch[], a: { deviceId: string; ruleId: string }, deviceTags: Record<string, string>): boolean =>
  silences.some((s) => silenceMatches(s, a, deviceTags));

/** Silences that have ended but whose held notifications were not yet released. */
export async function endedUnreleased(q: Queryable, at: Date): Promise<{ id: string; match: SilenceMatch }[]> {
  return (await q.query<{ id: string; match: SilenceMatch }>('select id, match from silences where ends_at <= $1 and released_at is null', [at])).rows;
}

/** When the next silence that still holds notifications ends (the scheduler wakes then). */
export async function nextSilenceEnd(q: Queryable, after: Date): Promise<number | undefined> {
  const r = await q.query<{ at: Date | null }>('select min(ends_at) as at from silences where released_at is null and ends_at > $1', [after]);
  return r.rows[0]?.at ? new Date(r.rows[0].at).getTime() : undefined;
}

export async function markReleased(q: Queryable, ids: string[], at: Date): Promise<void> {
  await q.query('update silences set released_at = $2 where id = any($1::text[])', [ids, at]);
}

export interface SilenceRow {
  id: string;
  match: SilenceMatch;
  startsAt: Date;
  endsAt: Date;
  comment: string;
  createdBy: string;
  org: string;
}

export async function insertSilence(q: Queryable, s: SilenceRow): Promise<void> {
  await q.query('insert into silences(id, match, starts_at, ends_at, comment, created_by, org) values ($1,$2,$3,$4,$5,$6,$7)', [
    s.id,
    JSON.stringify(s.match),
    s.startsAt,
    s.endsAt,
    s.comment,
    s.createdBy,
    s.org,
  ]);
}

/** Silences not yet ended at `at`, oldest start first; `org` null for all municipalities. */
export async function listSilences(q: Queryable, at: Date, org: string | null): Promise<SilenceRow[]> {
  const r = await q.query<{ id: string; match: SilenceMatch; starts_at: Date; ends_at: Date; comment: string; created_by: string; org: string }>(
    'select * from silences where ends_at > $1 and ($2::text is null or org = $2) order by starts_at',
    [at, org],
  );
  return r.rows.map((s) => ({
    id: s.id,
    match: s.match,
    startsAt: new Date(s.starts_at),
    endsAt: new Date(s.ends_at),
    comment: s.comment,
    createdBy: s.created_by,
    org: s.org,
  }));
}

/** Ends a silence early (it ends at `at`; the scheduler then releases what it held). False if there is none to end. */
export async function endSilence(q: Queryable, id: string, at: Date, org: string | null): Promise<boolean> {
  const r = await q.query('update silences set ends_at = $2 where id = $1 and ends_at > $2 and ($3::text is null or org = $3)', [id, at, org]);
  return !!r.rowCount;
}

/** Stores a silence and its audit row in one transaction. */
export async function createSilence(db: Db, s: SilenceRow, details: unknown): Promise<void> {
  await db.transaction(async (tx) => {
    await insertSilence(tx, s);
    await audit(tx, s.createdBy, 'create', 'silence', s.id, details);
  });
}

/** Ends a silence early and records who did; false (and nothing recorded) if there is none to end. */
export async function cancelSilence(db: Db, id: string, at: Date, org: string | null, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await endSilence(tx, id, at, org))) return false;
    await audit(tx, actor, 'delete', 'silence', id);
    return true;
  });
}
