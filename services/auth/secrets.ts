// Tokens and MQTT passwords are 192-bit random secrets we generate ourselves, so a single SHA-256 is as
// strong as a slow KDF here (no dictionary to attack) and keeps per-connection checks fast. Stored hashed only.
import crypto from 'node:crypto';

export const hashSecret = (secret: string): string => crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
export const newToken = (prefix = 'rw'): string => `${prefix}_${crypto.randomBytes(24).toString('base64url')}`;

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
