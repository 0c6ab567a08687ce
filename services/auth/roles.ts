export const ROLES = ['admin', 'operator', 'responder', 'integrator', 'viewer'] as const;
export type ApiRole = (typeof ROLES)[number];

/** What each permission needs. admin may do everything. [docs/api.md Roles] */
export const PERMISSIONS = {
  read: ['operator', 'responder', 'integrator', 'viewer'],
  'devices:write': ['operator', 'integrator'],
  'credentials:read': ['operator', 'integrator'],
  'credentials:write': ['integrator'],
  'rules:write': ['operator'],
  'routes:write': ['operator'],
  'silences:write': ['operator'],
  'alarms:ack': ['operator', 'responder'],
  'tokens:write': [],
  'audit:read': ['operator'],
} as const satisfies Record<string, readonly ApiRole[]>;
export type Permission = keyof typeof PERMISSIONS;

export function allowed(role: ApiRole, perm: Permission): boolean {
  return role === 'admin' || (PERMISSIONS[perm] as readonly string[]).includes(role);
}
