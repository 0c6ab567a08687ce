import crypto from 'node:crypto';

/** A new id for a rule, route or silence, e.g. `rule_3f9a0c1b2d4e`. */
export const newId = (prefix: string) => `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
