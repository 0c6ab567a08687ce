// Text PostgreSQL cannot store (NUL) or that is not Unicode (an unpaired UTF-16 surrogate) is refused at the
// door with a 400 naming the field, before any handler writes anything. [issue 11, OWASP ASVS 5.1.4]

const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Path of the first key or string value carrying a NUL or a lone surrogate, e.g. `body.tags.x`; iterative, so any depth. */
export function unsafeTextAt(root: Record<string, unknown>): string | undefined {
  const stack: [unknown, string][] = Object.entries(root).map(([k, v]) => [v, k]);
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSAFE.test(v)) return path;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = `${path}.${k.replace(UNSAFE, '?')}`;
        if (UNSAFE.test(k)) return p;
        stack.push([x, p]);
      }
    }
  }
  return undefined;
}
