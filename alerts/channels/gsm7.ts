// GSM 03.38 default alphabet: what fits a single 160-character SMS without switching to UCS-2. [docs/formats.md SMS]

// Basic table, 0x00–0x7F without ESC (0x1B).
const BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' + '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table: each costs ESC + char, i.e. two septets.
const EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(BASIC);
const extension = new Set(EXTENSION);

export function isGsm7(s: string): boolean {
  for (const ch of s) if (!basic.has(ch) && !extension.has(ch)) return false;
  return true;
}

/** Length in septets; extension characters count 2. Non-GSM characters count 1 (callers transliterate first). */
export function gsm7Length(s: string): number {
  let n = 0;
  for (const ch of s) n += extension.has(ch) ? 2 : 1;
  return n;
}

/** Longest prefix of s whose GSM-7 length is at most max. */
export function gsm7Slice(s: string, max: number): string {
  let n = 0;
  let out = '';
  for (const ch of s) {
    n += extension.has(ch) ? 2 : 1;
    if (n > max) break;
    out += ch;
  }
  return out;
}

const MAP: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '`': "'",
  '´': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '«': '"',
  '»': '"',
  '\u2039': "'",
  '\u203A': "'",
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2026': '...',
  '\u00A0': ' ',
  '\u202F': ' ',
  '\u2009': ' ',
  '\t': ' ',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'Th',
  œ: 'oe',
  Œ: 'OE',
  ẞ: 'SS',
  ç: 'c',
  µ: 'u',
  '°': '',
  '²': '2',
  '³': '3',
  '×': 'x',
  '·': '.',
  '•': '-',
};

/** Replace every non-GSM-7 character so the text never forces UCS-2 (70 chars/SMS). */
export function toGsm7(s: string): string {
  let out = '';
  for (const ch of s) {
    if (basic.has(ch) || extension.has(ch)) out += ch;
    else if (ch in MAP) out += MAP[ch];
    else out += stripMarks(ch);
  }
  return out;
}

// ş → s, ő → o, Ć → C: decompose and keep the base letter when it is GSM; anything else becomes "?".
function stripMarks(ch: string): string {
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
  if (base && isGsm7(base)) return base;
  return /\p{Cc}/u.test(ch) ? ' ' : '?';
}
