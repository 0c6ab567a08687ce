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
