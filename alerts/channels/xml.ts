// Minimal XML writing: every text and attribute value goes through esc().

// XML 1.0 forbids most control characters even as references, so they are dropped.
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function esc(s: string | number): string {
  return String(s)
    .replace(INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<name>text</name>`, or '' when text is empty, for optional elements. */
export function el(name: string, text: string | number | undefined | null, indent = ''): string {
  if (text === undefined || text === null || text === '') return '';
  return `${indent}<${name}>${esc(text)}</${name}>\n`;
}
