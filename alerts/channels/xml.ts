// Minimal XML writing: every text and attribute value goes through esc().

// XML 1.0 forbids most control characters even as character references, so they are dropped.
const xmlChar = (ch: string): boolean => {
  const c = ch.codePointAt(0) ?? 0;
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c !== 0xfffe && c !== 0xffff);
};

export function esc(s: string | number): string {
  return Array.from(String(s))
    .filter(xmlChar)
    .join('')
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
