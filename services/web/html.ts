// Auto-escaping HTML templates: every interpolation is escaped unless it is itself a template result.
// A device named `<script>…` is shown as text. Templates hold no logic beyond loops and conditions.

/** Markup that is already safe (built by `html` or from a constant). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: `html\`<td>${device.name}</td>\`` escapes the name; nested `html` results stay markup. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/**
 * Data for the page's scripts, in a `<script type="application/json">` block (not executed, so the CSP
 * allows it): `<`, `>` and `&` are written as \u escapes so no string can close the block.
 */
export function jsonBlock(id: string, data: unknown): Html {
  const s = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new Html(`<script type="application/json" id="${escapeHtml(id)}">${s}</script>`);
}
