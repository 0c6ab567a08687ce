// Form fields with their error next to them: the same zod schema as the JSON API validates a form, and each
// issue lands on the field its path names (aria-invalid + aria-describedby, so screen readers read it).
import type { z } from 'zod';
import { ApiError } from '../api/errors.ts';
import { type Html, html } from './html.ts';

export type FieldErrors = Record<string, string>;

/** zod issues by field name (the path joined with '.'), the first issue of each field. */
export function zodFieldErrors(e: z.ZodError, rename: (path: string) => string = (p) => p): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of e.issues) {
    const k = rename(issue.path.map(String).join('.'));
    out[k] ??= issue.message;
  }
  return out;
}

/** An ApiError from a service (conflict, forbidden, validation) as field errors; `fallback` names the field. */
export function apiFieldErrors(e: ApiError, fallback: string, rename: (path: string) => string = (p) => p): FieldErrors {
  const details = Array.isArray(e.details) ? (e.details as { path?: string; message?: string }[]) : [];
  const out: FieldErrors = {};
  for (const d of details) if (d.path) out[rename(d.path.replace(/^body\./, ''))] ??= d.message ?? e.message;
  if (!Object.keys(out).length) out[fallback] = e.message;
  return out;
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

export interface FieldOpts {
  name: string;
  label: string;
  value?: string;
  error?: string;
  help?: string;
  type?: string;
  required?: boolean;
  /** extra attributes as pairs, e.g. [['inputmode','decimal']] */
  attrs?: [string, string][];
  /** id prefix, so two forms on a page do not share ids */
  prefix?: string;
}

const fid = (o: { name: string; prefix?: string }) => `${o.prefix ?? 'f'}-${o.name.replace(/[^a-zA-Z0-9_-]/g, '-')}`;

function described(o: FieldOpts): string {
  const id = fid(o);
  return [o.help ? `${id}-help` : '', o.error ? `${id}-err` : ''].filter(Boolean).join(' ');
}

function after(o: FieldOpts): Html {
  const id = fid(o);
  return html`${o.help ? html`<small id="${id}-help" class="help">${o.help}</small>` : ''}${
    o.error ? html`<p id="${id}-err" class="field-error">${o.error}</p>` : ''
  }`;
}

const attrs = (o: FieldOpts) => (o.attrs ?? []).map(([k, v]) => html` ${k}="${v}"`);

export function inputField(o: FieldOpts): Html {
  const id = fid(o);
  const d = described(o);
  return html`<div class="field${o.error ? ' has-error' : ''}"><label for="${id}">${o.label}</label>
<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.required ? html` required` : ''}${o.error ? html` aria-invalid="true"` : ''}${d ? html` aria-describedby="${d}"` : ''}${attrs(o)}>
${after(o)}</div>`;
}

export function textareaField(o: FieldOpts & { rows?: number }): Html {
  const id = fid(o);
  const d = described(o);
  return html`<div class="field${o.error ? ' has-error' : ''}"><label for="${id}">${o.label}</label>
<textarea id="${id}" name="${o.name}" rows="${o.rows ?? 4}"${o.required ? html` required` : ''}${o.error ? html` aria-invalid="true"` : ''}${d ? html` aria-describedby="${d}"` : ''}${attrs(o)}>${o.value ?? ''}</textarea>
${after(o)}</div>`;
}

export function selectField(o: FieldOpts & { options: { value: string; label: string }[] }): Html {
  const id = fid(o);
  const d = described(o);
  return html`<div class="field${o.error ? ' has-error' : ''}"><label for="${id}">${o.label}</label>
<select id="${id}" name="${o.name}"${o.error ? html` aria-invalid="true"` : ''}${d ? html` aria-describedby="${d}"` : ''}${attrs(o)}>${o.options.map(
    (x) => html`<option value="${x.value}"${x.value === (o.value ?? '') ? html` selected` : ''}>${x.label}</option>`,
  )}</select>
${after(o)}</div>`;
}

export const csrfField = (csrf: string | undefined) => html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;

/** "a=b, c=d" (or one per line) as a record; pieces without '=' are reported. */
export function parsePairs(s: string, sep: RegExp = /[,\n]/): { pairs: Record<string, string>; bad: string[] } {
  const pairs: Record<string, string> = {};
  const bad: string[] = [];
  for (const raw of s.split(sep)) {
    const piece = raw.trim();
    if (!piece) continue;
    const k = piece.indexOf('=');
    if (k <= 0) bad.push(piece);
    else pairs[piece.slice(0, k).trim()] = piece.slice(k + 1).trim();
  }
  return { pairs, bad };
}

/** One item per line (or comma), blanks dropped. */
export const lines = (s: string): string[] =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
