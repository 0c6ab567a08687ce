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

/** Newest first; `org`: only the changes made with that municipality's tokens (actor "name#tokenId"). */
export async function listAudit(q: Queryable, f: { since?: string; entity?: string; limit: number; org: string | null }): Promise<AuditEntry[]> {
  const r = await q.query<{ id: number; at: Date; actor: string; action: string; entity: string; entity_id: string | null; details: unknown }>(
    `select * from audit_log where ($1::timestamptz is null or at >= $1) and ($2::text is null or entity = $2)
     and ($4::text is null or actor in (select name || '#' || id from api_tokens where org = $4)) order by id desc limit $3`,
    [f.since ?? null, f.entity ?? null, f.limit, f.org],
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
