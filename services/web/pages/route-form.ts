// The route form: built from the route's zod schema (routeSchema), so the console validates exactly like
// POST /api/v1/routes and every issue lands next to the field its path names. Fields the page does not know by
// name (a new schema field) are drawn from their zod type: text, number, yes/no, a choice, several choices, a
// list, or JSON — so a field added to the schema shows up, with its errors, without touching this page.
import type { z } from 'zod';
import { type Target, targetSchema } from '../../../alerts/channels/types.ts';
import { NOTIFY_ON, type RouteBody, routeSchema } from '../../../alerts/routing/route-schema.ts';
import { SEVERITIES } from '../../../alerts/types.ts';
import type { Device } from '../../devices/device-registry.ts';
import { csrfField, type FieldErrors, inputField, lines, parsePairs, selectField, textareaField } from '../form.ts';
import { type Html, html } from '../html.ts';
import { rt, rtMaybe } from '../i18n/rules.ts';
import type { View } from '../layout.ts';

/** Empty target rows offered below the route's own. */
const SPARE_TARGETS = 2;
const SPARE_ESCALATION = 1;
/** The fields this page lays out itself; every other top-level schema field is drawn from its type. */
const KNOWN = new Set(['name', 'match', 'targets', 'notifyOn', 'repeatEvery', 'escalate', 'enabled']);
/** The target types the schema knows, in its order (webhook, sms, email, call, …). */
export const TARGET_TYPES: string[] = targetSchema.options.map((o) => String(o.shape.type.value));

type Form = Record<string, string | string[] | undefined>;
type ZodAny = z.ZodType & { def: { type: string; innerType?: ZodAny; element?: ZodAny; entries?: Record<string, string> } };

const unwrap = (s: ZodAny): ZodAny => {
  let x = s;
  while ((x.def.type === 'optional' || x.def.type === 'default' || x.def.type === 'nullable') && x.def.innerType) x = x.def.innerType;
  return x;
};
const one = (f: Form, k: string): string => {
  const v = f[k];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
};
const many = (f: Form, k: string): string[] => {
  const v = f[k];
  return Array.isArray(v) ? v : v ? [v] : [];
};
const opt = (s: string) => (s === '' ? undefined : s);

/** The extra (schema-driven) fields: name → zod type. */
function extraFields(): [string, ZodAny][] {
  return Object.entries(routeSchema.shape as Record<string, ZodAny>).filter(([k]) => !KNOWN.has(k));
}

/** A form value of a schema field drawn from its type, as the body takes it (invalid text left for zod to name). */
function fieldValue(t: ZodAny, f: Form, k: string): unknown {
  const u = unwrap(t);
  const s = one(f, k);
  switch (u.def.type) {
    case 'boolean':
      return f[k] !== undefined ? one(f, k) === 'on' || one(f, k) === 'true' : undefined;
    case 'number':
      return s === '' ? undefined : Number(s.replace(',', '.'));
    case 'array': {
      const el = u.def.element ? unwrap(u.def.element) : undefined;
      if (el?.def.type === 'enum') return many(f, k).length ? many(f, k) : undefined;
      if (el?.def.type === 'string') return s === '' ? undefined : lines(s);
      break;
    }
    case 'string':
    case 'enum':
      return opt(s);
  }
  if (s === '') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s; // zod says what shape it wanted
  }
}

/** The form of a stored route (webhook secrets are never put into a page). */
export function formOfRoute(r: RouteBody): Form {
  const f: Form = {
    name: r.name,
    enabled: r.enabled ? 'on' : undefined,
    'match.minSeverity': r.match.minSeverity,
    'match.deviceIds': r.match.deviceIds ?? [],
    'match.ruleIds': r.match.ruleIds ?? [],
    'match.tags': Object.entries(r.match.tags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    notifyOn: r.notifyOn,
    repeatEvery: r.repeatEvery ?? '',
    'escalate.after': r.escalate?.after ?? '',
  };
  const put = (prefix: string, ts: Target[]) =>
    ts.forEach((t, k) => {
      f[`${prefix}.${k}.type`] = t.type;
      f[`${prefix}.${k}.to`] = t.type === 'webhook' ? t.url : t.to;
      if (t.type !== 'webhook') f[`${prefix}.${k}.name`] = t.name ?? '';
      if (t.type === 'webhook') f[`${prefix}.${k}.format`] = t.format;
      f[`${prefix}.${k}.when`] = t.when ? JSON.stringify(t.when) : '';
    });
  put('targets', r.targets);
  put('escalate.targets', r.escalate?.targets ?? []);
  for (const [k, t] of extraFields()) {
    const v = (r as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const u = unwrap(t);
    if (u.def.type === 'boolean') f[k] = v ? 'on' : undefined;
    else if (u.def.type === 'array' && Array.isArray(v)) f[k] = u.def.element && unwrap(u.def.element).def.type === 'enum' ? (v as string[]) : v.join('\n');
    else f[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return f;
}

export const newRouteForm = (): Form => ({
  enabled: 'on',
  'match.minSeverity': 'moderate',
  notifyOn: [...(routeSchema.shape.notifyOn.parse(undefined) as string[])],
});

function targetRows(f: Form, prefix: string): number {
  let n = 0;
  while (f[`${prefix}.${n}.type`] !== undefined) n++;
  return n;
}

/**
 * The route body this form stands for. `previous`: the stored route when editing; a webhook target whose
 * secret is left empty keeps the secret the stored route has for that URL (secrets are write-only).
 */
export function routeInput(f: Form, previous?: RouteBody): { body: Record<string, unknown>; issues: FieldErrors } {
  const issues: FieldErrors = {};
  const oldSecret = (url: string) =>
    [...(previous?.targets ?? []), ...(previous?.escalate?.targets ?? [])].find(
      (t): t is Extract<Target, { type: 'webhook' }> => t.type === 'webhook' && t.url === url,
    )?.secret;
  const targets = (prefix: string) => {
    const out: Record<string, unknown>[] = [];
    for (let k = 0; k < targetRows(f, prefix); k++) {
      const at = (x: string) => one(f, `${prefix}.${k}.${x}`);
      const type = at('type');
      const to = at('to');
      if (!to && !at('secret') && !at('name')) continue; // an empty row
      let when: unknown;
      if (at('when')) {
        try {
          when = JSON.parse(at('when'));
        } catch {
          issues[`${prefix}.${out.length}.when`] = 'must be JSON, e.g. {"days":["mo","tu","we","th","fr"],"from":"07:00","to":"16:00"}';
        }
      }
      out.push(
        type === 'webhook'
          ? { type, url: to, secret: at('secret') || oldSecret(to) || '', format: at('format') || undefined, ...(when !== undefined && { when }) }
          : { type, to, ...(at('name') && { name: at('name') }), ...(when !== undefined && { when }) },
      );
    }
    return out;
  };
  const tags = parsePairs(one(f, 'match.tags'));
  if (tags.bad.length) issues['match.tags'] = `"${tags.bad.join('", "')}": key=value expected`;
  const escalationTargets = targets('escalate.targets');
  const after = one(f, 'escalate.after');
  const body: Record<string, unknown> = {
    name: one(f, 'name'),
    enabled: f.enabled !== undefined,
    match: {
      minSeverity: one(f, 'match.minSeverity') || undefined,
      ...(many(f, 'match.deviceIds').length && { deviceIds: many(f, 'match.deviceIds') }),
      ...(Object.keys(tags.pairs).length && { tags: tags.pairs }),
      ...(many(f, 'match.ruleIds').length && { ruleIds: many(f, 'match.ruleIds') }),
    },
    targets: targets('targets'),
    notifyOn: many(f, 'notifyOn'),
    ...(opt(one(f, 'repeatEvery')) && { repeatEvery: one(f, 'repeatEvery') }),
    ...((after || escalationTargets.length) && { escalate: { after, targets: escalationTargets } }),
  };
  for (const [k, t] of extraFields()) {
    const v = fieldValue(t, f, k);
    if (v !== undefined) body[k] = v;
  }
  return { body, issues };
}

/** zod's issues by form field: a webhook's `url` is the row's address field. */
export function routeIssues(e: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const i of e.issues) {
    const k = i.path
      .map(String)
      .join('.')
      .replace(/\.(url)$/, '.to');
    out[k] ??= i.message;
  }
  return out;
}

/** The fields of one schema field the page does not know by name, drawn from its zod type. */
function extraField(v: View, k: string, t: ZodAny, f: Form, errs: FieldErrors): Html {
  const u = unwrap(t);
  const label = rtMaybe(v.i, `route_field_${k}`) ?? t.description ?? k;
  // an issue inside the field (groupBy.0) is shown at the field
  const error = errs[k] ?? Object.entries(errs).find(([x]) => x.startsWith(`${k}.`))?.[1];
  if (u.def.type === 'boolean')
    return html`<div class="field${error ? ' has-error' : ''}"><label><input type="checkbox" name="${k}"${f[k] !== undefined ? html` checked` : ''}${error ? html` aria-invalid="true" aria-describedby="f-${k}-err"` : ''}> ${label}</label>${error ? html`<p id="f-${k}-err" class="field-error">${error}</p>` : ''}</div>`;
  if (u.def.type === 'enum')
    return selectField({
      name: k,
      label,
      value: one(f, k),
      error,
      options: [{ value: '', label: '–' }, ...Object.values(u.def.entries ?? {}).map((x) => ({ value: x, label: x }))],
    });
  const el = u.def.type === 'array' && u.def.element ? unwrap(u.def.element) : undefined;
  if (el?.def.type === 'enum')
    return html`<fieldset class="field${error ? ' has-error' : ''}"><legend>${label}</legend>${Object.values(el.def.entries ?? {}).map(
      (x) => html`<label><input type="checkbox" name="${k}" value="${x}"${many(f, k).includes(x) ? html` checked` : ''}> ${x}</label> `,
    )}${error ? html`<p id="f-${k}-err" class="field-error" role="alert">${error}</p>` : ''}</fieldset>`;
  if (u.def.type === 'string' || u.def.type === 'number')
    return inputField({ name: k, label, value: one(f, k), error, ...(u.def.type === 'number' && { attrs: [['inputmode', 'decimal']] }) });
  if (el?.def.type === 'string') return textareaField({ name: k, label, value: one(f, k), error, rows: 2, help: rt(v.i)('route_lines_help') });
  return textareaField({ name: k, label, value: one(f, k), error, rows: 2, help: rt(v.i)('route_json_help') });
}

function targetTable(v: View, f: Form, errs: FieldErrors, prefix: string, spare: number, legend: string): Html {
  const w = rt(v.i);
  const rows = targetRows(f, prefix) + spare;
  const typeLabel: Record<string, string> = { webhook: 'Webhook', sms: 'SMS', email: w('target_email'), call: w('target_call') };
  const cell = (k: number, x: string, input: Html) => {
    const e = errs[`${prefix}.${k}.${x}`] ?? (x === 'to' ? errs[`${prefix}.${k}`] : undefined);
    return html`<td${e ? html` class="has-error"` : ''}>${input}${e ? html`<p id="f-${prefix}-${k}-${x}-err" class="field-error">${e}</p>` : ''}</td>`;
  };
  const aria = (k: number, x: string, name: string) => {
    const e = errs[`${prefix}.${k}.${x}`] ?? (x === 'to' ? errs[`${prefix}.${k}`] : undefined);
    return html` aria-label="${legend} ${k + 1}: ${name}"${e ? html` aria-invalid="true" aria-describedby="f-${prefix}-${k}-${x}-err"` : ''}`;
  };
  return html`<fieldset class="targets-edit"><legend>${legend}</legend>${errs[prefix] ? html`<p class="field-error" role="alert">${errs[prefix]}</p>` : ''}
<p class="help">${w('route_targets_help')}</p>
<div class="table-wrap"><table class="target-table"><thead><tr><th scope="col">${w('route_target_type')}</th><th scope="col">${w('route_target_to')}</th><th scope="col">${w('route_target_name')}</th><th scope="col">${w('route_target_secret')}</th><th scope="col">${w('route_target_when')}</th></tr></thead><tbody>
${Array.from({ length: rows }, (_, k) => {
  const at = (x: string) => one(f, `${prefix}.${k}.${x}`);
  const type = at('type') || 'sms';
  return html`<tr data-row="${k}">
${cell(k, 'type', html`<select name="${prefix}.${k}.type"${aria(k, 'type', w('route_target_type'))}>${TARGET_TYPES.map((t) => html`<option value="${t}"${t === type ? html` selected` : ''}>${typeLabel[t] ?? t}</option>`)}</select>`)}
${cell(k, 'to', html`<input name="${prefix}.${k}.to" value="${at('to')}" size="28"${aria(k, 'to', w('route_target_to'))}>`)}
${cell(k, 'name', html`<input name="${prefix}.${k}.name" value="${at('name')}" size="16"${aria(k, 'name', w('route_target_name'))}>`)}
${cell(k, 'secret', html`<input name="${prefix}.${k}.secret" value="" size="14" autocomplete="off"${aria(k, 'secret', w('route_target_secret'))}>`)}
${cell(k, 'when', html`<input name="${prefix}.${k}.when" value="${at('when')}" size="22"${aria(k, 'when', w('route_target_when'))}>`)}
</tr>`;
})}</tbody></table></div></fieldset>`;
}

export function routeFormHtml(
  v: View,
  o: { form: Form; errs: FieldErrors; action: string; devices: Device[]; rules: { id: string; name: string }[]; isNew: boolean },
): Html {
  const { form: f, errs } = o;
  const { i } = v;
  const w = rt(i);
  const known = new Set([
    'name',
    'enabled',
    'match.minSeverity',
    'match.tags',
    'match.deviceIds',
    'match.ruleIds',
    'notifyOn',
    'repeatEvery',
    'escalate.after',
    'escalate',
    'targets',
    'escalate.targets',
    'match',
  ]);
  const extras = extraFields();
  const placed = (k: string) =>
    known.has(k) || /^(escalate\.)?targets\.\d+/.test(k) || extras.some(([x]) => k === x || k.startsWith(`${x}.`)) || k.startsWith('match.');
  const rest = Object.entries(errs).filter(([k]) => !placed(k));
  const checks = (name: string, items: { value: string; label: string }[], legend: string, help: string) => {
    const e = errs[name];
    return html`<fieldset class="field picks${e ? ' has-error' : ''}"><legend>${legend}</legend><p class="help">${help}</p>${items.map(
      (x) => html`<label><input type="checkbox" name="${name}" value="${x.value}"${many(f, name).includes(x.value) ? html` checked` : ''}> ${x.label}</label> `,
    )}${e ? html`<p class="field-error" role="alert">${e}</p>` : ''}</fieldset>`;
  };
  return html`${rest.length ? html`<ul class="msg msg-error" role="alert">${rest.map(([k, m]) => html`<li>${k ? `${k}: ` : ''}${m}</li>`)}</ul>` : ''}
<form method="post" action="${o.action}" class="route-form" novalidate>${csrfField(v.session?.csrf)}
${inputField({ name: 'name', label: w('route_name'), value: one(f, 'name'), error: errs.name, required: true })}
<div class="field"><label><input type="checkbox" name="enabled"${f.enabled !== undefined ? html` checked` : ''}> ${w('route_enabled')}</label></div>
${selectField({
  name: 'match.minSeverity',
  label: w('route_min_sev'),
  value: one(f, 'match.minSeverity'),
  error: errs['match.minSeverity'],
  help: w('route_min_sev_help'),
  options: SEVERITIES.map((s) => ({ value: s, label: i.sev(s) })),
})}
${checks(
  'match.deviceIds',
  o.devices.map((d) => ({ value: d.id, label: d.name })),
  w('route_stations'),
  w('route_stations_help'),
)}
${textareaField({ name: 'match.tags', label: w('route_tags'), value: one(f, 'match.tags'), error: errs['match.tags'], rows: 2 })}
${checks(
  'match.ruleIds',
  o.rules.map((r) => ({ value: r.id, label: r.name })),
  w('route_rules'),
  w('route_rules_help'),
)}
${targetTable(v, f, errs, 'targets', SPARE_TARGETS, w('route_targets'))}
${checks(
  'notifyOn',
  NOTIFY_ON.map((x) => ({ value: x, label: w(`notify_${x}` as Parameters<typeof w>[0]) })),
  w('route_notify_on'),
  w('route_notify_on_help'),
)}
${inputField({ name: 'repeatEvery', label: w('route_repeat'), value: one(f, 'repeatEvery'), error: errs.repeatEvery, help: w('route_repeat_help'), attrs: [['size', '6']] })}
${inputField({ name: 'escalate.after', label: w('route_escalate_after'), value: one(f, 'escalate.after'), error: errs['escalate.after'] ?? errs.escalate, help: w('route_escalate_after_help'), attrs: [['size', '6']] })}
${targetTable(v, f, errs, 'escalate.targets', SPARE_ESCALATION, w('route_escalation_targets'))}
${extras.map(([k, t]) => extraField(v, k, t, f, errs))}
<p class="actions"><button type="submit" class="primary">${o.isNew ? w('route_create') : w('route_save')}</button></p>
</form>`;
}

/** Parses the form's body with the API's schema: the route body, or the issues by field. */
export function parseRouteForm(f: Form, previous?: RouteBody): { ok: true; body: RouteBody } | { ok: false; errs: FieldErrors } {
  const { body, issues } = routeInput(f, previous);
  const r = routeSchema.safeParse(body);
  if (!r.success) return { ok: false, errs: { ...routeIssues(r.error), ...issues } };
  if (Object.keys(issues).length) return { ok: false, errs: issues };
  return { ok: true, body: r.data };
}

export type RouteForm = Form;
