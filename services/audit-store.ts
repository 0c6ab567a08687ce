// The audit log: who changed what, when. One row per configuration change, written in the same transaction
// as the change when there is one; read by GET /api/v1/audit and the console's audit page.
import type { Queryable } from './db/db.ts';

/** Who changed what, when. Every configuration change writes one row, in the same transaction when there is one. */
export async function audit(q: Queryable, actor: string, action: string, entity: string, entityId: string | null, details?: unknown): Promise<void> {
  await q.query('insert into audit_log(actor, action, entity, entity_id, details) values ($1,$2,$3,$4,$5)', [
    actor,
    action,
    entity,
    entityId,
    details === undefined ? null : JSON.stringify(redact(details)),
  ]);
}

const SECRET_KEYS = /secret|password|token/i;
/** Secrets never reach the audit log. */
export function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEYS.test(k) && typeof x === 'string' ? '[redacted]' : redact(x)]));
  }
  return v;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string | null;
  details: unknown;
}

export interface AuditFilter {
  since?: string;
  entity?: string;
  /** who: an exact actor ("name#tokenId" or "web:login") or a part of it */
  actor?: string;
  limit: number;
  /** a municipality sees the changes made with its tokens (actor "name#tokenId") and by its console users ("web:login") */
  org: string | null;
}

/** Newest first. */
export async function listAudit(q: Queryable, f: AuditFilter): Promise<AuditEntry[]> {
  const r = await q.query<{ id: number; at: Date; actor: string; action: string; entity: string; entity_id: string | null; details: unknown }>(
    `select * from audit_log where ($1::timestamptz is null or at >= $1) and ($2::text is null or entity = $2)
     and ($4::text is null or actor in (select name || '#' || id from api_tokens where org = $4) or actor in (select 'web:' || login from users where org = $4))
     and ($5::text is null or strpos(lower(actor), lower($5)) > 0) order by id desc limit $3`,
    [f.since ?? null, f.entity ?? null, f.limit, f.org, f.actor ?? null],
  );
  return r.rows.map((x) => ({
    id: x.id,
    at: new Date(x.at).toISOString(),
    actor: x.actor,
    action: x.action,
    entity: x.entity,
    entityId: x.entity_id,
    details: x.details,
  }));
}

/** The kinds of object that appear in the log (for a filter). */
export async function auditEntities(q: Queryable): Promise<string[]> {
  const r = await q.query<{ entity: string }>('select distinct entity from audit_log order by entity');
  return r.rows.map((x) => x.entity);
}
