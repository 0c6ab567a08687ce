// The resource path of a SensorThings request (`Things('a')/Datastreams/$ref`) as a list of steps.
// [OGC 18-088 §9.2]
import { StaQueryError } from './filter-parser.ts';

export type PathStep =
  | { k: 'set'; name: string } // Things, or a navigation property (Datastreams, Thing)
  | { k: 'id'; id: string } // ('a') or (1), following a set
  | { k: 'ref' } // $ref
  | { k: 'value' } // $value
  | { k: 'prop'; name: string }; // a property: Things('a')/name

/** Splits at '/' outside quotes. */
function segments(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of path) {
    if (c === "'") quoted = !quoted;
    if (c === '/' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new StaQueryError('unterminated quote in the resource path');
  out.push(cur);
  return out.filter((s) => s !== '');
}

function parseId(raw: string): string {
  if (/^-?\d+$/.test(raw)) return raw;
  const m = /^'((?:[^']|'')*)'$/.exec(raw);
  if (!m) throw new StaQueryError(`invalid entity id (${raw}): write ids in quotes, e.g. Things('gauge-01')`);
  return m[1].replace(/''/g, "'");
}

export function parseResourcePath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  for (const seg of segments(path)) {
    if (seg === '$ref') steps.push({ k: 'ref' });
    else if (seg === '$value') steps.push({ k: 'value' });
    else {
      const m = /^([A-Za-z][A-Za-z0-9_]*)(\((.*)\))?$/s.exec(seg);
      if (!m) throw new StaQueryError(`invalid path segment '${seg}'`);
      steps.push({ k: 'set', name: m[1] });
      if (m[2]) steps.push({ k: 'id', id: parseId(m[3]) });
    }
  }
  return steps;
}

/** An entity id as it appears in a URL: quoted, with quotes doubled. */
export const idInUrl = (id: string): string => `('${id.replace(/'/g, "''")}')`;
