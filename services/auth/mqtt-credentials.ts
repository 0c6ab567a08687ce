// MQTT topic filters and credentials as values: matching, validity, what a credential may never subscribe to.
// Stored by mqtt-credential-store.ts.

export interface MqttCredential {
  username: string;
  publish: string[];
  subscribe: string[];
  /** the municipality it belongs to; null: the whole installation */
  org: string | null;
  createdAt: string;
}

/** MQTT topic filter match with + and # wildcards. [MQTT-4.7.1] */
export function topicMatches(filter: string, topic: string): boolean {
  // level by level over both strings without splitting them: checked for every publish, so no garbage
  let fi = 0;
  let ti = 0;
  for (;;) {
    let fe = filter.indexOf('/', fi);
    if (fe < 0) fe = filter.length;
    if (fe - fi === 1 && filter.charCodeAt(fi) === 35 /* # */) return true;
    if (ti > topic.length) return false; // the topic has fewer levels than the filter
    let te = topic.indexOf('/', ti);
    if (te < 0) te = topic.length;
    const plus = fe - fi === 1 && filter.charCodeAt(fi) === 43; /* + */
    if (!plus && !sameLevel(filter, fi, fe, topic, ti, te)) return false;
    fi = fe + 1;
    ti = te + 1;
    if (fi > filter.length) return ti > topic.length; // filter done: the topic must be done too
  }
}

function sameLevel(a: string, ai: number, ae: number, b: string, bi: number, be: number): boolean {
  if (ae - ai !== be - bi) return false;
  for (; ai < ae; ai++, bi++) if (a.charCodeAt(ai) !== b.charCodeAt(bi)) return false;
  return true;
}

/** Does every topic that `inner` matches also match `outer`? (a subscription checked against an ACL pattern) */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '#') return true;
    if (i >= n.length || n[i] === '#') return false;
    if (o[i] !== '+' && (n[i] === '+' || o[i] !== n[i])) return false;
  }
  return o.length === n.length;
}

export function validFilter(f: string): boolean {
  if (!f || f.length > 512) return false;
  const parts = f.split('/');
  return parts.every((p, i) => (p.includes('#') ? p === '#' && i === parts.length - 1 : !p.includes('+') || p === '+'));
}

/**
 * Filters no one may subscribe to on an intake broker: everything (`#`, `+/#` …), shared subscriptions
 * (`$share/…`, they would take uplinks away from no one but still read them all) and broker internals.
 */
export function forbiddenSubscription(f: string): string | null {
  if (f.startsWith('$')) return `'${f.slice(0, 60)}': $share and $SYS subscriptions are not allowed`;
  if (f.split('/').every((p) => p === '+' || p === '#')) return `'${f.slice(0, 60)}' would read every topic`;
  return null;
}
