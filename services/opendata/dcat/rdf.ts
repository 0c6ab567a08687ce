// A small RDF graph model written two ways, JSON-LD and Turtle, so both serialisations of the catalogue say the
// same triples (test/e2e/opendata-files.test.ts compares them). Every node has an IRI (no blank nodes).
export type Term = { iri: string } | { value: string; lang?: string; datatype?: string };
export interface RdfNode {
  id: string;
  types: string[];
  props: Array<[string, Term | Term[]]>;
}

export const PREFIXES: Record<string, string> = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  dcatde: 'http://dcat-ap.de/def/dcatde/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  locn: 'http://www.w3.org/ns/locn#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  adms: 'http://www.w3.org/ns/adms#',
};

export const iri = (i: string): Term => ({ iri: i });
export const de = (value: string): Term => ({ value, lang: 'de' });
export const lit = (value: string, datatype?: string): Term => ({ value, datatype });
export const dateTime = (d: Date): Term => ({ value: d.toISOString(), datatype: `${PREFIXES.xsd}dateTime` });

const list = (t: Term | Term[]) => (Array.isArray(t) ? t : [t]);

export function toJsonLd(nodes: RdfNode[]): unknown {
  const term = (t: Term) =>
    'iri' in t
      ? { '@id': t.iri }
      : t.lang
        ? { '@value': t.value, '@language': t.lang }
        : t.datatype
          ? { '@value': t.value, '@type': t.datatype }
          : { '@value': t.value };
  return {
    '@context': PREFIXES,
    '@graph': nodes.map((n) => {
      const o: Record<string, unknown> = { '@id': n.id, '@type': n.types };
      for (const [p, v] of n.props) {
        const vals = list(v).map(term);
        const prev = o[p] as unknown[] | undefined;
        o[p] = prev ? [...prev, ...vals] : vals;
      }
      return o;
    }),
  };
}

const escapeIri = (i: string) => i.replace(/[\x00-\x20<>"{}|^`\\]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const escapeLit = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

function turtleName(i: string): string {
  for (const [p, ns] of Object.entries(PREFIXES)) {
    const local = i.slice(ns.length);
    if (i.startsWith(ns) && /^[A-Za-z][A-Za-z0-9_-]*$/.test(local)) return `${p}:${local}`;
  }
  return `<${escapeIri(i)}>`;
}

function turtleTerm(t: Term): string {
  if ('iri' in t) return turtleName(t.iri);
  const s = `"${escapeLit(t.value)}"`;
  return t.lang ? `${s}@${t.lang}` : t.datatype ? `${s}^^${turtleName(t.datatype)}` : s;
}

const expand = (p: string) => {
  const [pre, local] = p.split(':');
  return PREFIXES[pre] ? PREFIXES[pre] + local : p;
};

export function toTurtle(nodes: RdfNode[]): string {
  const head = Object.entries(PREFIXES)
    .map(([p, ns]) => `@prefix ${p}: <${ns}> .`)
    .join('\n');
  const body = nodes.map((n) => {
    const lines = [`a ${n.types.map((t) => turtleName(expand(t))).join(', ')}`];
    for (const [p, v] of n.props) lines.push(`${turtleName(expand(p))} ${list(v).map(turtleTerm).join(', ')}`);
    return `<${escapeIri(n.id)}>\n  ${lines.join(' ;\n  ')} .`;
  });
  return `${head}\n\n${body.join('\n\n')}\n`;
}
