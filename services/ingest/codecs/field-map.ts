// Maps a decoded object (js-codec `data`, ChirpStack `object`, TTS `decoded_payload`) to canonical metrics.
// Vendor outputs differ wildly [docs/reference/lorawan.md 5]: bare numbers, "3.384 V" strings, {value, unit} objects.
import { isMetric } from '../../../alerts/types.ts';
import { type DecodedCounter, type DecodeResult, fail, ok } from './types.ts';

/** Field-map keys that fill `counter` instead of a metric, so rain is derived from tip counts. */
const COUNTER_KEYS: Record<string, Omit<DecodedCounter, 'count'>> = {
  counter: { bits: 32 }, // cumulative, uint32
  counter16: { bits: 16 }, // cumulative, uint16
  counter_relative: { bits: 32, relative: true }, // tips since the previous uplink
};
const EXTRA_METRIC = /^x_[a-z0-9_]{1,60}$/;
const LEADING_NUMBER = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/;

/** Problems with a field map, for the API to reject it at upload time; empty when valid. */
export function validateFieldMap(fieldMap: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, path] of Object.entries(fieldMap)) {
    if (!isMetric(key) && !EXTRA_METRIC.test(key) && !Object.hasOwn(COUNTER_KEYS, key)) {
      problems.push(`'${key}' is not a canonical metric, an x_ extra or a counter key`);
    }
    if (typeof path !== 'string' || path.trim() === '' || path.split('.').some((s) => s === '')) {
      problems.push(`'${key}' needs a dot path like "distance.value"`);
    }
  }
  return problems;
}

/** Follow a dot path through own properties only (no walking into prototypes via "__proto__"). */
function lookup(object: unknown, path: string): unknown {
  let cur: unknown = object;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** A number from a number, a unit-suffixed string ("3.384 V"), a boolean or a {value} object. */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string') {
    const m = LEADING_NUMBER.exec(raw);
    return m ? Number(m[1]) : Number.NaN;
  }
  if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, 'value')) return toNumber((raw as { value: unknown }).value);
  return Number.NaN;
}

export function mapDecodedObject(object: unknown, fieldMap: Record<string, string>): DecodeResult {
  const problems = validateFieldMap(fieldMap);
  if (problems.length > 0) return fail('codec_error', `invalid field map: ${problems.join('; ')}`);
  if (object === null || typeof object !== 'object') return fail('decode_error', 'decoded payload is not an object');
  const values: Record<string, number> = {};
  let counter: DecodedCounter | undefined;
  for (const [key, path] of Object.entries(fieldMap)) {
    const raw = lookup(object, path);
    if (raw === undefined || raw === null) continue; // e.g. a battery-only frame lacks the distance
    const n = toNumber(raw);
    if (!Number.isFinite(n)) {
      return fail('decode_error', `field '${path}' for ${key} is not a finite number: ${JSON.stringify(raw)?.slice(0, 80)}`);
    }
    const counterKind = Object.hasOwn(COUNTER_KEYS, key) ? COUNTER_KEYS[key] : undefined;
    if (counterKind) {
      if (!Number.isInteger(n) || n < 0 || n >= 2 ** counterKind.bits) {
        return fail('decode_error', `field '${path}' for ${key} is not a ${counterKind.bits}-bit count: ${n}`);
      }
      counter = { count: n, ...counterKind };
    } else {
      values[key] = n;
    }
  }
  if (Object.keys(values).length === 0 && !counter) {
    return fail('decode_error', `none of the mapped fields (${Object.values(fieldMap).join(', ')}) is present`);
  }
  return ok(values, counter);
}
