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
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
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
