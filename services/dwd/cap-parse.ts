// Reads the DWD's CAP files (one CAP 1.2 XML per alert, zipped) into DwdAlert. Only the German info block
// is kept. A file that is not a valid DWD CAP alert becomes a problem with its reason, never a crash.
// [docs/dwd.md Warnings] [docs/reference/dwd-inputs.md §1.2]
import { XMLParser } from 'fast-xml-parser';
import { unzipSync } from 'fflate';
import type { DwdAlert } from '../../alerts/dwd/dwd-warnings.ts';

export interface CapParseResult {
  alerts: DwdAlert[];
  /** files that could not be read, with why */
  problems: { file: string; reason: string }[];
}

const ARRAYS = new Set(['info', 'area', 'geocode', 'eventCode', 'parameter', 'polygon']);
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ARRAYS.has(name),
});

const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
const MSG_TYPES = ['Alert', 'Update', 'Cancel'] as const;
const SEVERITIES = ['Minor', 'Moderate', 'Severe', 'Extreme'] as const;
/** a zip of more files than this is not a DWD snapshot (the full German one holds a few hundred) */
const MAX_FILES = 20_000;
const MAX_UNZIPPED_BYTES = 256 * 1024 * 1024;

type Node = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const pairs = (v: unknown): { valueName: string; value: string }[] =>
  (Array.isArray(v) ? v : []).map((x: Node) => ({ valueName: text(x?.valueName), value: text(x?.value) }));

function time(s: string, field: string): number {
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`${field} ${JSON.stringify(s)} is not a date`);
  return t;
}

function oneOf<T extends string>(values: readonly T[], v: string, field: string): T {
  if (!(values as readonly string[]).includes(v)) throw new Error(`${field} ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
  return v as T;
}

/** `sender,identifier,sent` triples separated by blanks; we keep the identifiers. [CAP 1.2 §3.2.1 references] */
const referencedIds = (s: string): string[] =>
  s
    .split(/\s+/)
    .filter(Boolean)
    .map((triple) => triple.split(',')[1])
    .filter((id): id is string => !!id);

/** One CAP XML document (one alert) to a DwdAlert. Throws with a reason when it is not one. */
export function parseCapXml(xml: string): DwdAlert {
  const doc = parser.parse(xml) as Node;
  const alert = doc.alert as Node | undefined;
  if (!alert || typeof alert !== 'object') throw new Error('no CAP <alert> element');
  const infos = (alert.info as Node[] | undefined) ?? [];
  // the MUL files carry one info per language; DE files only the German one
  const info = infos.find((i) => text(i.language).toLowerCase().startsWith('de')) ?? infos[0];
  if (!info) throw new Error('alert has no <info>');
  const codes = pairs(info.eventCode);
  const ii = Number(codes.find((c) => c.valueName === 'II')?.value);
  const sent = time(text(alert.sent), 'sent');
  const onsetText = text(info.onset) || text(info.effective);
  const expiresText = text(info.expires);
  const warncells = ((info.area as Node[] | undefined) ?? []).flatMap((a) =>
    pairs(a.geocode)
      .filter((g) => g.valueName === 'WARNCELLID' && /^\d{9}$/.test(g.value))
      .map((g) => g.value),
  );
  const identifier = text(alert.identifier);
  if (!identifier) throw new Error('alert has no identifier');
  return {
    identifier,
    sent,
    status: oneOf(STATUSES, text(alert.status), 'status'),
    msgType: oneOf(MSG_TYPES, text(alert.msgType), 'msgType'),
    references: referencedIds(text(alert.references)),
    event: text(info.event),
    ii: Number.isInteger(ii) ? ii : -1,
    severity: oneOf(SEVERITIES, text(info.severity), 'severity'),
    onset: onsetText ? time(onsetText, 'onset') : sent,
    expires: expiresText ? time(expiresText, 'expires') : null,
    headline: text(info.headline),
    description: text(info.description),
    warncells: [...new Set(warncells)],
  };
}

/** A DWD CAP zip (snapshot) to its alerts; files that are not CAP alerts are listed as problems. */
export function parseCapZip(bytes: Uint8Array): CapParseResult {
  let total = 0;
  let count = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        count += 1;
        total += f.originalSize;
        if (count > MAX_FILES || total > MAX_UNZIPPED_BYTES) throw new Error(`zip too large (${count} files, ${total} bytes unpacked)`);
        return f.name.toLowerCase().endsWith('.xml');
      },
    });
  } catch (e) {
    return { alerts: [], problems: [{ file: '(zip)', reason: `not a readable zip: ${(e as Error).message}` }] };
  }
  return parseCapFiles(Object.entries(files).map(([name, data]) => ({ name, xml: new TextDecoder().decode(data) })));
}

export function parseCapFiles(files: { name: string; xml: string }[]): CapParseResult {
  const out: CapParseResult = { alerts: [], problems: [] };
  for (const f of files) {
    try {
      out.alerts.push(parseCapXml(f.xml));
    } catch (e) {
      out.problems.push({ file: f.name, reason: (e as Error).message });
    }
  }
  out.alerts.sort((a, b) => a.sent - b.sent || a.identifier.localeCompare(b.identifier));
  return out;
}
