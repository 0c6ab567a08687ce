// The CSV of one station and metric: RFC 4180 (CRLF, a header row), UTC timestamps in ISO 8601 with their
// offset (never local winter time all year, the Pegel Online pitfall), the unit in the header, a quality column.
import type { Queryable } from '../../db/db.ts';
import { csvLineBatches } from '../public-store.ts';
import type { PublishedMetric } from '../sta/vocabulary.ts';

export const csvHeader = (m: PublishedMetric) => `time,${m.metric} (${m.unit.symbol}),quality\r\n`;

/** The CSV as chunks of text, one per batch of rows: memory stays the same for a day or a year. */
export async function* csvChunks(db: Queryable, deviceId: string, m: PublishedMetric, from: Date, to: Date): AsyncGenerator<string> {
  yield csvHeader(m);
  yield* csvLineBatches(db, deviceId, m.metric, from, to);
}

/** A calendar month (2026-05) or year (2026) in UTC as [from, to). */
export function periodRange(period: string): { from: Date; to: Date } | undefined {
  const y = /^(\d{4})$/.exec(period);
  if (y) return { from: new Date(Date.UTC(Number(y[1]), 0, 1)), to: new Date(Date.UTC(Number(y[1]) + 1, 0, 1)) };
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (m) return { from: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)), to: new Date(Date.UTC(Number(m[1]), Number(m[2]), 1)) };
  return undefined;
}
