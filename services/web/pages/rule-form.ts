// The rule form: what the operator typed (strings), turned into the same rule body the API takes
// (POST /api/v1/rules), and drawn with every field explained and its errors next to it.
import { expandPreset } from '../../../alerts/rules/presets.ts';
import { PRESETS, type PresetName, RULE_KINDS, type RuleDefinition, type RuleIssue } from '../../../alerts/rules/rule-types.ts';
import { METRIC_UNITS, SEVERITIES } from '../../../alerts/types.ts';
import type { Device } from '../../devices/device-registry.ts';
import { Html, html, jsonBlock } from '../html.ts';
import { type RulesKey, rt } from '../i18n/rules.ts';
import type { View } from '../layout.ts';

const LEVEL_ROWS = 6;

export interface RuleForm {
  source: 'preset' | 'custom';
  preset: PresetName;
  name: string;
  kind: string;
  metric: string;
  comparison: string;
  levels: { severity: string; window: string; threshold: string; strict: boolean }[];
  thresholds: [string, string, string];
  scopeBy: 'stations' | 'tags';
  deviceIds: string[];
  tags: string;
  for: string;
  clearFor: string;
  hysteresis: string;
  /** accumulation only: mm/h a reading counts at most, empty = no cap */
  intensityCap: string;
  mode: string;
  period: string;
  from: string;
  to: string;
}

const str = (b: Record<string, unknown>, k: string): string => (typeof b[k] === 'string' ? (b[k] as string) : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);
const blankLevel = () => ({ severity: '', window: '', threshold: '', strict: false });
const pad = <T>(xs: T[], n: number, blank: () => T): T[] => [...xs, ...Array.from({ length: Math.max(0, n - xs.length) }, blank)];
const numText = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : String(n));
const isPreset = (s: string): s is PresetName => (PRESETS as readonly string[]).includes(s);

/** A fresh form: from a preset, or a custom rule prefilled with one DWD-like level. */
export function newForm(preset: string | undefined): RuleForm {
  const p: PresetName = preset && isPreset(preset) ? preset : 'dwd-starkregen';
  const body = expandPreset({ preset: p, scope: { tags: {} }, thresholds: p === 'pegel-meldestufen' ? [NaN, NaN, NaN] : undefined });
  const custom = !(preset && isPreset(preset));
  return {
    source: custom ? 'custom' : 'preset',
    preset: p,
    name: custom ? '' : body.name,
    kind: custom ? 'accumulation' : String(body.kind),
    metric: custom ? 'rain_mm' : (body.metric ?? ''),
    comparison: 'above',
    levels: pad(custom ? [{ severity: 'moderate', window: '1h', threshold: '15', strict: false }] : [], LEVEL_ROWS, blankLevel),
    thresholds: ['', '', ''],
    scopeBy: 'stations',
    deviceIds: [],
    tags: '',
    for: '0m',
    clearFor: body.clear?.for ?? '0m',
    hysteresis: String(body.clear?.hysteresis ?? 0),
    intensityCap: '',
    mode: 'active',
    period: '30d',
    from: '',
    to: '',
  };
}

/** The form as a stored rule fills it (a preset rule stays a preset rule). */
export function formOfRule(r: RuleDefinition): RuleForm {
  const f = newForm(r.preset ?? undefined);
  const tags = Object.entries(r.scope.tags ?? {});
  return {
    ...f,
    source: r.preset ? 'preset' : 'custom',
    name: r.name,
    kind: r.kind,
    metric: r.metric ?? '',
    comparison: r.comparison,
    levels: pad(
      r.levels.map((l) => ({ severity: l.severity, window: l.window ?? '', threshold: r.kind === 'offline' ? '' : numText(l.threshold), strict: !!l.strict })),
      LEVEL_ROWS,
      blankLevel,
    ),
    thresholds: r.preset === 'pegel-meldestufen' ? ([0, 1, 2].map((k) => numText(r.levels[k]?.threshold)) as [string, string, string]) : ['', '', ''],
    scopeBy: r.scope.deviceIds ? 'stations' : 'tags',
    deviceIds: r.scope.deviceIds ?? [],
    tags: tags.map(([k, v]) => `${k}=${v}`).join('\n'),
    for: r.for,
    clearFor: r.clear.for,
    hysteresis: String(r.clear.hysteresis),
    intensityCap: numText(r.intensityCap),
    mode: r.mode,
  };
}

/** The form as posted. */
export function formOfBody(body: unknown): RuleForm {
  const b = (body ?? {}) as Record<string, unknown>;
  const preset = str(b, 'preset');
  return {
    source: str(b, 'source') === 'custom' ? 'custom' : 'preset',
    preset: isPreset(preset) ? preset : 'dwd-starkregen',
    name: str(b, 'name'),
    kind: str(b, 'kind'),
    metric: str(b, 'metric'),
    comparison: str(b, 'comparison') || 'above',
    levels: Array.from({ length: LEVEL_ROWS }, (_, i) => ({
      severity: str(b, `levels.${i}.severity`),
      window: str(b, `levels.${i}.window`),
      threshold: str(b, `levels.${i}.threshold`),
      strict: str(b, `levels.${i}.strict`) === 'on',
    })),
    thresholds: [0, 1, 2].map((k) => str(b, `thresholds.${k}`)) as [string, string, string],
    scopeBy: str(b, 'scope_by') === 'tags' ? 'tags' : 'stations',
    deviceIds: list(b['scope.deviceIds']),
    tags: str(b, 'scope.tags'),
    for: str(b, 'for'),
    clearFor: str(b, 'clear.for'),
    hysteresis: str(b, 'clear.hysteresis'),
    intensityCap: str(b, 'intensityCap'),
    mode: str(b, 'mode') === 'shadow' ? 'shadow' : 'active',
    period: str(b, 'period') || '30d',
    from: str(b, 'from'),
    to: str(b, 'to'),
  };
}

/** German decimal commas accepted; a word stays NaN so the schema names the field. */
const num = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s.trim().replace(',', '.')));
const opt = (s: string): string | undefined => (s.trim() === '' ? undefined : s.trim());

/** `key=value` lines; a line without `=` is an issue at scope.tags. */
export function parseTags(text: string, path: string): { tags: Record<string, string>; issues: RuleIssue[] } {
  const tags: Record<string, string> = {};
  const issues: RuleIssue[] = [];
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (!l) continue;
    const eq = l.indexOf('=');
    if (eq <= 0) issues.push({ path, message: `"${l}": key=value expected` });
    else tags[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
  }
  return { tags, issues };
}

/** The rule body the API would take for this form, and issues the form itself finds (tag lines). */
export function ruleInput(f: RuleForm): { input: Record<string, unknown>; issues: RuleIssue[] } {
  const t = parseTags(f.tags, 'scope.tags');
  const scope = f.scopeBy === 'tags' ? { tags: t.tags } : f.deviceIds.length ? { deviceIds: f.deviceIds } : {};
  const common = { name: opt(f.name), scope, for: opt(f.for), mode: f.mode };
  const clear = { hysteresis: num(f.hysteresis), for: opt(f.clearFor) };
  const issues = f.scopeBy === 'tags' ? t.issues : [];
  if (f.source === 'preset') {
    const thresholds = f.preset === 'pegel-meldestufen' ? f.thresholds.map((x) => num(x) ?? Number.NaN) : undefined;
    return { input: { preset: f.preset, ...common, thresholds, clear }, issues };
  }
  const levels = f.levels
    .filter((l) => l.severity || l.window.trim() || l.threshold.trim())
    .map((l) => ({ severity: l.severity, window: opt(l.window), threshold: num(l.threshold), ...(l.strict && { strict: true }) }));
  return {
    input: {
      ...common,
      kind: f.kind,
      metric: opt(f.metric),
      comparison: f.comparison,
      levels,
      clear: { ...clear, hysteresis: clear.hysteresis ?? 0 },
      ...(num(f.intensityCap) !== undefined && { intensityCap: num(f.intensityCap) }),
    },
    issues,
  };
}

/** Issues by the field they belong to; what no field shows is listed on top of the form. */
export class FieldErrors {
  private shown = new Set<RuleIssue>();
  constructor(readonly issues: RuleIssue[]) {}
  /** issues at `path` or below it */
  at(path: string, exact = false): RuleIssue[] {
    const hit = this.issues.filter((x) => x.path === path || (!exact && x.path.startsWith(`${path}.`)));
    for (const x of hit) this.shown.add(x);
    return hit;
  }
  rest(): RuleIssue[] {
    return this.issues.filter((x) => !this.shown.has(x));
  }
}

const fid = (path: string) => `f-${path.replace(/[^a-zA-Z0-9]+/g, '-')}`;

/** aria attributes and the error line of one field. */
function errorOf(errs: FieldErrors, path: string, help: boolean, exact = false): { attrs: Html; line: Html | string } {
  const list = path === 'scope' ? [...errs.at('scope', true), ...errs.at('scope.deviceIds')] : errs.at(path, exact);
  const id = fid(path);
  const described = [help ? `${id}-help` : '', list.length ? `${id}-err` : ''].filter(Boolean).join(' ');
  return {
    attrs: html`${described ? html` aria-describedby="${described}"` : ''}${list.length ? html` aria-invalid="true"` : ''}`,
    line: list.length ? html`<p class="field-error" id="${id}-err">${list.map((x) => x.message).join('; ')}</p>` : '',
  };
}

function textField(errs: FieldErrors, path: string, label: string, value: string, help?: string, extra = ''): Html {
  const e = errorOf(errs, path, !!help);
  const id = fid(path);
  return html`<div class="field${e.line ? ' has-error' : ''}"><label for="${id}">${label}</label>
<input id="${id}" name="${path}" value="${value}"${e.attrs}${new Html(extra)}>
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}${e.line}</div>`;
}

function selectField(errs: FieldErrors, path: string, label: string, value: string, options: [string, string][], help?: string): Html {
  const e = errorOf(errs, path, !!help);
  const id = fid(path);
  return html`<div class="field${e.line ? ' has-error' : ''}"><label for="${id}">${label}</label>
<select id="${id}" name="${path}"${e.attrs}>${options.map(([v, l]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${l}</option>`)}</select>
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}${e.line}</div>`;
}

export interface PeriodChoice {
  value: string;
  label: string;
}

/** The whole form; `action` is where it posts (preview and save share it, told apart by the button). */
export function ruleFormHtml(
  v: View,
  o: { form: RuleForm; errs: FieldErrors; action: string; devices: Device[]; periods: PeriodChoice[]; isNew: boolean },
): Html {
  const { form: f, errs } = o;
  const { i } = v;
  const w = rt(i);
  const sevOptions = (): [string, string][] => [['', '–'], ...SEVERITIES.map((s): [string, string] => [s, i.sev(s)])];
  const scopeErr = errorOf(errs, 'scope', true);
  const tagsErr = errorOf(errs, 'scope.tags', false);
  const periodErr = errorOf(errs, 'period', true);
  const levelRows = f.levels.map((l, k) => {
    const row = errorOf(errs, `levels.${k}`, false);
    return html`<tr${row.line ? html` class="has-error"` : ''}><th scope="row">${w('form_level_n', { n: k + 1 })}</th>
<td><select name="levels.${k}.severity" aria-label="${w('form_level_n', { n: k + 1 })}: ${w('form_severity')}"${row.attrs}>${sevOptions().map(
      ([sv, sl]) => html`<option value="${sv}"${sv === l.severity ? html` selected` : ''}>${sl}</option>`,
    )}</select></td>
<td><input name="levels.${k}.window" value="${l.window}" size="5" aria-label="${w('form_level_n', { n: k + 1 })}: ${w('form_window')}"${row.attrs}></td>
<td><input name="levels.${k}.threshold" value="${l.threshold}" size="6" inputmode="decimal" aria-label="${w('form_level_n', { n: k + 1 })}: ${w('form_threshold')}"${row.attrs}></td>
<td><input type="checkbox" name="levels.${k}.strict" aria-label="${w('form_level_n', { n: k + 1 })}: ${w('form_strict')}"${l.strict ? html` checked` : ''}></td>
<td>${row.line}</td></tr>`;
  });
  const body = html`<form method="post" action="${o.action}" class="rule-form" novalidate>
<input type="hidden" name="_csrf" value="${v.session?.csrf}">
<input type="hidden" name="source" value="${f.source}">
${
  f.source === 'preset'
    ? html`<input type="hidden" name="preset" value="${f.preset}"><div class="field"><span class="label">${w('form_preset')}</span> <strong>${w(presetKey(f.preset))}</strong>
<p class="help">${w('form_preset_help')}</p></div>`
    : ''
}
${textField(errs, 'name', w('form_name'), f.name, w('form_name_help'), ' required maxlength="200"')}
${
  f.source === 'custom'
    ? html`${selectField(
        errs,
        'kind',
        w('form_kind'),
        f.kind,
        RULE_KINDS.map((k): [string, string] => [k, w(`kind_${k}` as RulesKey)]),
        w('form_kind_help'),
      )}
${selectField(
  errs,
  'metric',
  w('form_metric'),
  f.metric,
  [['', '–'], ...Object.keys(METRIC_UNITS).map((m): [string, string] => [m, `${m} (${METRIC_UNITS[m]})`])],
  w('form_metric_help'),
)}
${selectField(errs, 'comparison', w('form_comparison'), f.comparison, [
  ['above', w('form_above')],
  ['below', w('form_below')],
])}
<fieldset class="levels"><legend>${w('form_levels')}</legend><p class="help" id="levels-help">${w('form_levels_help')}</p>${errorOf(errs, 'levels', false, true).line}
<table class="level-table"><thead><tr><td></td><th scope="col">${w('form_severity')}</th><th scope="col">${w('form_window')}</th><th scope="col">${w('form_threshold')}</th><th scope="col">${w('form_strict')}</th><td></td></tr></thead>
<tbody>${levelRows}</tbody></table></fieldset>
${textField(errs, 'intensityCap', w('form_intensity_cap'), f.intensityCap, w('form_intensity_cap_help'), ' size="6" inputmode="decimal"')}`
    : ''
}
${
  f.source === 'preset' && f.preset === 'pegel-meldestufen'
    ? html`<fieldset><legend>${w('form_thresholds')}</legend><p class="help">${w('form_thresholds_help')}</p>${errorOf(errs, 'thresholds', false).line}
${[0, 1, 2].map((k) => html`<label>${['I', 'II', 'III'][k]} <input name="thresholds.${k}" value="${f.thresholds[k]}" size="6" inputmode="decimal"></label> `)}</fieldset>`
    : ''
}
<fieldset class="scope${scopeErr.line ? ' has-error' : ''}" id="${fid('scope')}"><legend>${w('form_scope')}</legend>
<p class="help" id="${fid('scope')}-help">${w('form_scope_help')}</p>${scopeErr.line}
<p><label><input type="radio" name="scope_by" value="stations"${f.scopeBy === 'stations' ? html` checked` : ''}> ${w('form_scope_stations')}</label>
<label><input type="radio" name="scope_by" value="tags"${f.scopeBy === 'tags' ? html` checked` : ''}> ${w('form_scope_tags')}</label></p>
<div class="station-picks">${o.devices.map(
    (d) =>
      html`<label><input type="checkbox" name="scope.deviceIds" value="${d.id}"${f.deviceIds.includes(d.id) ? html` checked` : ''}> ${d.name} <span class="muted">(${d.id}${
        Object.keys(d.tags).length
          ? `; ${Object.entries(d.tags)
              .map(([k, x]) => `${k}=${x}`)
              .join(', ')}`
          : ''
      })</span></label>`,
  )}</div>
<label for="${fid('scope.tags')}">${w('form_tags')}</label>
<textarea id="${fid('scope.tags')}" name="scope.tags" rows="2"${tagsErr.attrs}>${f.tags}</textarea>${tagsErr.line}
<p class="matched" aria-live="polite"><output id="scope-count" data-word="${w('form_matched', { n: '{n}' })}">${w('form_matched', { n: matchCount(f, o.devices) })}</output></p>
${jsonBlock(
  'scope-data',
  o.devices.map((d) => ({ id: d.id, tags: d.tags })),
)}
</fieldset>
<div class="cols">
${textField(errs, 'for', w('form_for'), f.for, w('form_for_help'), ' size="6"')}
${textField(errs, 'clear.for', w('form_clear_for'), f.clearFor, w('form_clear_for_help'), ' size="6"')}
${textField(errs, 'clear.hysteresis', w('form_hysteresis'), f.hysteresis, w('form_hysteresis_help'), ' size="6" inputmode="decimal"')}
</div>
${selectField(
  errs,
  'mode',
  w('form_mode'),
  f.mode,
  [
    ['active', w('mode_active')],
    ['shadow', w('mode_shadow')],
  ],
  w('form_mode_help'),
)}
<fieldset class="period${periodErr.line ? ' has-error' : ''}"><legend>${w('form_period')}</legend><p class="help" id="${fid('period')}-help">${w('form_period_help')}</p>
<select name="period" aria-label="${w('form_period')}"${periodErr.attrs}>${o.periods.map((p) => html`<option value="${p.value}"${p.value === f.period ? html` selected` : ''}>${p.label}</option>`)}</select>
<label>${w('form_from')} <input type="datetime-local" name="from" value="${f.from}"></label>
<label>${w('form_to')} <input type="datetime-local" name="to" value="${f.to}"></label>${periodErr.line}
</fieldset>
<p class="actions"><button type="submit" name="action" value="preview">${w('form_preview')}</button>
<button type="submit" name="action" value="save" class="primary">${o.isNew ? w('form_save_new') : w('form_save')}</button></p>
</form>`;
  const rest = errs.rest();
  return html`${rest.length ? html`<ul class="msg msg-error" role="alert">${rest.map((x) => html`<li>${x.path ? `${x.path}: ` : ''}${x.message}</li>`)}</ul>` : ''}${body}`;
}

export const presetKey = (p: PresetName): RulesKey => `preset_${p.replace(/-/g, '_')}` as RulesKey;

/** How many stations the form's scope names (the page script keeps this live while ticking boxes). */
export function matchCount(f: RuleForm, devices: Device[]): number {
  if (f.scopeBy === 'stations') return devices.filter((d) => f.deviceIds.includes(d.id)).length;
  const { tags } = parseTags(f.tags, 'scope.tags');
  if (Object.keys(tags).length === 0) return 0;
  return devices.filter((d) => Object.entries(tags).every(([k, x]) => d.tags[k] === x)).length;
}
