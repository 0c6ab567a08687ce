// Checking that a callback really comes from the SMS provider. [issue 16]
import crypto from 'node:crypto';

/** Twilio: base64 HMAC-SHA1 with the auth token over the full URL followed by each POST field name and value, sorted by name. */
export function twilioSignatureValid(authToken: string, url: string, params: Record<string, string>, header: string | undefined): boolean {
  if (!header) return false;
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  const expected = crypto.createHmac('sha1', authToken).update(data, 'utf8').digest();
  return safeEqual(expected, Buffer.from(header, 'base64'));
}

/** seven: hex HMAC-SHA256 with the signing secret over "timestamp\nnonce\nMETHOD\nurl\nmd5(body)", within 5 minutes. */
export function sevenSignatureValid(
  secret: string,
  o: { url: string; method: string; body: string; timestamp?: string; nonce?: string; signature?: string; nowSec: number },
): boolean {
  if (!o.timestamp || !o.nonce || !o.signature || !/^\d+$/.test(o.timestamp)) return false;
  if (Math.abs(o.nowSec - Number(o.timestamp)) > 300) return false; // replay window
  const md5 = crypto.createHash('md5').update(o.body).digest('hex');
  const expected = crypto.createHmac('sha256', secret).update([o.timestamp, o.nonce, o.method.toUpperCase(), o.url, md5].join('\n')).digest();
  return /^[0-9a-fA-F]+$/.test(o.signature) && safeEqual(expected, Buffer.from(o.signature, 'hex'));
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
