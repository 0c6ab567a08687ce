// Numeric ids (alarms, tokens) come from bigserial columns: anything that is not one answers 404 like an
// id that does not exist, never a database error. [issue 11 "ids beyond bigint → 404"]
const MAX_BIGINT = 9223372036854775807n;

/** The id as a decimal string when it names a possible bigint row, else undefined. */
export function bigintId(s: string): string | undefined {
  if (!/^[0-9]{1,19}$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= 1n && n <= MAX_BIGINT ? n.toString() : undefined;
}
