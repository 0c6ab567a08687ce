import { describe, expect, it } from 'vitest';
import { expandPreset, formatDuration, parseDuration, parseRuleInput } from './rule-schema.ts';

const scope = { deviceIds: ['gauge-01'] };
const base = { name: 'Starkregen Gießen-Nord', kind: 'accumulation', metric: 'rain_mm', scope };
const lvl = (severity: string, window: string | undefined, threshold?: number) => ({ severity, window, threshold });

function issues(body: unknown) {
  const r = parseRuleInput(body);
  if (r.ok) throw new Error('expected validation issues');
  return r.issues;
}

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['6h', 21_600_000],
    ['2d', 172_800_000],
    ['0m', 0],
  ])('%s → %i ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
    expect(formatDuration(ms)).toBe(ms === 0 ? '0s' : s);
  });

  it.each(['', '1', 'h', '1.5h', '1h30m', '-5m', '5 min', '5M'])('rejects %j', (s) => {
    expect(() => parseDuration(s)).toThrow(/bad duration/);
  });
});

describe('parseRuleInput: the docs/api.md rule example', () => {
  it('normalises with defaults and windowMs, levels sorted by severity then window', () => {
    const r = parseRuleInput({
      ...base,
      levels: [lvl('moderate', '1h', 15), lvl('severe', '1h', 25), lvl('moderate', '6h', 20)],
      for: '0m',
      clear: { hysteresis: 2, for: '15m' },
      mode: 'active',
    });
    expect(r).toEqual({
      ok: true,
      rule: {
        name: 'Starkregen Gießen-Nord',
        kind: 'accumulation',
        metric: 'rain_mm',
        comparison: 'above',
        scope,
        levels: [
          { severity: 'moderate', window: '1h', windowMs: 3_600_000, threshold: 15 },
          { severity: 'moderate', window: '6h', windowMs: 21_600_000, threshold: 20 },
          { severity: 'severe', window: '1h', windowMs: 3_600_000, threshold: 25 },
        ],
        for: '0m',
        forMs: 0,
        clear: { hysteresis: 2, for: '15m', forMs: 900_000 },
        mode: 'active',
        enabled: true,
      },
    });
  });

  it('fills for, clear, comparison and mode defaults', () => {
    const r = parseRuleInput({
      name: 'n',
      kind: 'threshold',
      metric: 'level_cm',
      scope: { tags: { river: 'lahn' } },
      levels: [lvl('moderate', undefined, 550)],
    });
    expect(r.ok && r.rule).toMatchObject({ for: '0m', clear: { hysteresis: 0, for: '0m' }, comparison: 'above', mode: 'active', enabled: true });
  });

  it('offline needs no metric or threshold and reports the window in seconds', () => {
    const r = parseRuleInput({ name: 'stale', kind: 'offline', scope, levels: [{ severity: 'minor', window: '45m' }] });
    expect(r.ok && r.rule.levels).toEqual([{ severity: 'minor', window: '45m', windowMs: 2_700_000, threshold: 2700 }]);
  });
});

describe('parseRuleInput: validation messages', () => {
  it.each([
    [
      'unknown metric for the kind',
      { ...base, kind: 'rate', metric: 'water', levels: [lvl('severe', '15m', 20)] },
      'metric',
      /unknown metric "water" for kind rate; use one of rain_mm, level_cm/,
    ],
    [
      'accumulation on a level',
      { ...base, metric: 'level_cm', levels: [lvl('moderate', '1h', 15)] },
      'metric',
      /accumulation sums rain; metric must be rain_mm, not "level_cm"/,
    ],
    ['missing metric', { ...base, metric: undefined, levels: [lvl('moderate', '1h', 15)] }, 'metric', /metric is required for kind accumulation/],
    ['metric on offline', { ...base, kind: 'offline', levels: [lvl('minor', '1h')] }, 'metric', /offline rules watch every uplink/],
    ['window too short', { ...base, levels: [lvl('moderate', '30s', 15)] }, 'levels.0.window', /window 30s is outside the allowed 1m–7d/],
    ['window too long', { ...base, levels: [lvl('moderate', '8d', 15)] }, 'levels.0.window', /window 8d is outside the allowed 1m–7d/],
    ['window missing', { ...base, levels: [lvl('moderate', undefined, 15)] }, 'levels.0.window', /window is required for kind accumulation/],
    ['window on threshold', { ...base, kind: 'threshold', metric: 'level_cm', levels: [lvl('moderate', '1h', 550)] }, 'levels.0.window', /take no window/],
    ['bad duration string', { ...base, levels: [lvl('moderate', '1 hour', 15)] }, 'levels.0.window', /bad duration "1 hour"/],
    ['bad for', { ...base, levels: [lvl('moderate', '1h', 15)], for: '5x' }, 'for', /bad duration "5x"/],
    ['for too long', { ...base, levels: [lvl('moderate', '1h', 15)], clear: { for: '8d' } }, 'clear.for', /longer than the allowed 7d/],
    ['threshold missing', { ...base, levels: [lvl('moderate', '1h')] }, 'levels.0.threshold', /threshold is required/],
    ['threshold not finite', { ...base, levels: [lvl('moderate', '1h', Number.POSITIVE_INFINITY)] }, 'levels.0.threshold', /must be a finite number/],
    ['negative hysteresis', { ...base, levels: [lvl('moderate', '1h', 15)], clear: { hysteresis: -1 } }, 'clear.hysteresis', /hysteresis must be 0 or more/],
    ['unknown severity', { ...base, levels: [lvl('warning', '1h', 15)] }, 'levels.0.severity', /must be one of minor, moderate, severe, extreme/],
    ['unknown kind', { ...base, kind: 'sum', levels: [lvl('moderate', '1h', 15)] }, 'kind', /must be one of threshold, rate, accumulation, offline/],
    ['empty scope', { ...base, scope: {}, levels: [lvl('moderate', '1h', 15)] }, 'scope', /scope needs deviceIds or at least one tag/],
    ['no levels', { ...base, levels: [] }, 'levels', /at least one level is needed/],
    ['unknown field', { ...base, levels: [lvl('moderate', '1h', 15)], severity: 'x' }, '', /Unrecognized key/],
    [
      'duplicate level',
      { ...base, levels: [lvl('moderate', '1h', 15), lvl('moderate', '1h', 18)] },
      'levels.1.severity',
      /duplicate level: moderate\/1h is already defined by levels.0/,
    ],
    [
      'higher severity, lower threshold, same window',
      { ...base, levels: [lvl('moderate', '1h', 25), lvl('severe', '1h', 15)] },
      'levels.0.threshold',
      /level moderate\/1h \(≥ 25\) can never fire: severe\/1h \(≥ 15\) always holds first; a higher severity needs a stricter threshold/,
    ],
    [
      'equal thresholds',
      { ...base, kind: 'threshold', metric: 'level_cm', levels: [lvl('moderate', undefined, 600), lvl('severe', undefined, 600)] },
      'levels.0.threshold',
      /level moderate \(≥ 600\) can never fire/,
    ],
    [
      'below: higher severity must be lower',
      { ...base, kind: 'threshold', metric: 'battery_v', comparison: 'below', levels: [lvl('minor', undefined, 3.3), lvl('moderate', undefined, 3.4)] },
      'levels.0.threshold',
      /level minor \(≤ 3.3\) can never fire: moderate \(≤ 3.4\)/,
    ],
    [
      'longer rain window with a lower bar',
      { ...base, levels: [lvl('moderate', '1h', 15), lvl('severe', '6h', 10)] },
      'levels.0.threshold',
      /moderate\/1h \(≥ 15\) can never fire: severe\/6h \(≥ 10\)/,
    ],
    [
      'offline: higher severity needs a longer silence',
      { name: 'x', kind: 'offline', scope, levels: [lvl('minor', '1h'), lvl('moderate', '30m')] },
      'levels.0.window',
      /a higher severity needs a longer window/,
    ],
  ])('%s', (_name, body, path, message) => {
    const found = issues(body);
    expect(found).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('accepts mixed windows where a lower level can still win (DWD 6 h moderate 20 vs 1 h severe 25)', () => {
    expect(parseRuleInput({ ...base, levels: [lvl('moderate', '6h', 20), lvl('severe', '1h', 25)] }).ok).toBe(true);
  });

  it('lists every issue at once', () => {
    expect(issues({ ...base, metric: 'x', levels: [lvl('moderate', '30s', 1), lvl('severe', '9d', 2)] }).map((i) => i.path)).toEqual([
      'metric',
      'levels.0.window',
      'levels.1.window',
    ]);
  });
});

describe('presets', () => {
  it('takes for and clear overrides so a preset can be tuned to a site, keeping its levels', () => {
    const r = ok({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650], for: '2m', clear: { for: '1m' } });
    expect(r).toMatchObject({ kind: 'threshold', metric: 'level_cm', for: '2m', forMs: 120_000, clear: { hysteresis: 5, for: '1m', forMs: 60_000 } });
    expect(r.levels.map((l) => l.threshold)).toEqual([550, 600, 650]);
    const bad = parseRuleInput({ preset: 'dwd-starkregen', scope, clear: { for: 'soon' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0]).toMatchObject({ path: 'clear.for', message: expect.stringMatching(/bad duration/) });
  });

  const ok = (body: unknown) => {
    const r = parseRuleInput(body);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.rule;
  };
  const table = (body: unknown) => ok(body).levels.map((l) => `${l.severity}/${l.window ?? '-'}/${l.threshold}`);

  it('dwd-starkregen: 1 h 15/25/40 and 6 h 20/35/60 → moderate/severe/extreme', () => {
    const r = ok({ preset: 'dwd-starkregen', scope, mode: 'shadow' });
    expect(r).toMatchObject({
      name: 'DWD Starkregen',
      kind: 'accumulation',
      metric: 'rain_mm',
      mode: 'shadow',
      preset: 'dwd-starkregen',
      clear: { hysteresis: 0, for: '15m' },
    });
    expect(table({ preset: 'dwd-starkregen', scope })).toEqual([
      'moderate/1h/15',
      'moderate/6h/20',
      'severe/1h/25',
      'severe/6h/35',
      'extreme/1h/40',
      'extreme/6h/60',
    ]);
  });

  it('dwd-dauerregen: 12/24/48/72 h lower bounds', () => {
    expect(table({ preset: 'dwd-dauerregen', scope, name: 'Dauerregen Lahn' })).toEqual([
      'moderate/12h/25',
      'moderate/24h/30',
      'moderate/48h/40',
      'moderate/72h/60',
      'severe/12h/40',
      'severe/24h/50',
      'severe/48h/60',
      'severe/72h/90',
      'extreme/12h/70',
      'extreme/24h/80',
      'extreme/48h/90',
      'extreme/72h/120',
    ]);
  });

  it('pegel-meldestufen: threshold on level_cm with 5 cm hysteresis', () => {
    const r = ok({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] });
    expect(r).toMatchObject({ kind: 'threshold', metric: 'level_cm', clear: { hysteresis: 5, for: '10m' } });
    expect(table({ preset: 'pegel-meldestufen', scope, thresholds: [550, 600, 650] })).toEqual(['moderate/-/550', 'severe/-/600', 'extreme/-/650']);
  });

  it('expandPreset returns a plain rule body', () => {
    expect(expandPreset({ preset: 'dwd-starkregen', scope, mode: 'shadow' })).toMatchObject({ kind: 'accumulation', mode: 'shadow', scope });
  });

  it.each([
    [{ preset: 'pegel-meldestufen', scope }, 'thresholds', /needs thresholds/],
    [{ preset: 'pegel-meldestufen', scope, thresholds: [600, 550, 650] }, 'thresholds', /must rise strictly/],
    [{ preset: 'pegel-meldestufen', scope, thresholds: [550, 600] }, 'thresholds', /.+/],
    [{ preset: 'dwd-starkregen', scope, thresholds: [1, 2, 3] }, 'thresholds', /only apply to pegel-meldestufen/],
    [{ preset: 'dwd-hagel', scope }, 'preset', /must be one of dwd-starkregen, dwd-dauerregen, pegel-meldestufen/],
    [{ preset: 'dwd-starkregen' }, 'scope', /.+/],
  ])('rejects %j', (body, path, message) => {
    expect(issues(body)).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe('parseRuleInput: kind dwd_warning [docs/dwd.md Warnings]', () => {
  const dwd = { name: 'DWD Unwetter', kind: 'dwd_warning', scope: { tags: { source: 'dwd-warnings' } } };

  it('reads the overall DWD rain level unless a metric names Starkregen or Dauerregen', () => {
    const r = parseRuleInput({ ...dwd, levels: [{ severity: 'severe', threshold: 3 }] });
    expect(r.ok && r.rule).toMatchObject({ kind: 'dwd_warning', metric: 'dwd_warning_level', levels: [{ severity: 'severe', threshold: 3, windowMs: 0 }] });
    const s = parseRuleInput({ ...dwd, metric: 'dwd_dauerregen_level', levels: [{ severity: 'moderate', threshold: 2 }] });
    expect(s.ok && s.rule.metric).toBe('dwd_dauerregen_level');
  });

  it.each([
    [{ metric: 'rain_mm', levels: [{ severity: 'severe', threshold: 3 }] }, 'metric', /dwd_warning reads one of/],
    [{ levels: [{ severity: 'severe', threshold: 5 }] }, 'levels.0.threshold', /DWD level: 1, 2, 3 or 4/],
    [{ levels: [{ severity: 'severe', threshold: 2.5 }] }, 'levels.0.threshold', /DWD level/],
    [{ levels: [{ severity: 'severe', threshold: 3, window: '1h' }] }, 'levels.0.window', /take no window/],
  ])('rejects %j at %s', (extra, path, message) => {
    expect(issues({ ...dwd, ...extra })).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('the contract shorthand {"kind":"dwd_warning","minLevel":3,"events"?}: one level per DWD level from minLevel', () => {
    const r = parseRuleInput({ kind: 'dwd_warning', minLevel: 3 });
    expect(r.ok && r.rule).toMatchObject({
      kind: 'dwd_warning',
      metric: 'dwd_warning_level',
      scope: { tags: { source: 'dwd-warnings' } },
      levels: [
        { severity: 'severe', threshold: 3 },
        { severity: 'extreme', threshold: 4 },
      ],
    });
    const both = parseRuleInput({ kind: 'dwd_warning', minLevel: 2, events: ['STARKREGEN', 'DAUERREGEN'], name: 'DWD' });
    expect(both.ok && both.rule).toMatchObject({ name: 'DWD', metric: 'dwd_warning_level', levels: [{ threshold: 2 }, { threshold: 3 }, { threshold: 4 }] });
    const starkregen = parseRuleInput({ kind: 'dwd_warning', minLevel: 3, events: ['STARKREGEN'] });
    expect(starkregen.ok && starkregen.rule.metric).toBe('dwd_starkregen_level');
    expect(issues({ kind: 'dwd_warning', minLevel: 5 })).toEqual([{ path: 'minLevel', message: expect.stringMatching(/1, 2, 3 or 4/) }]);
    expect(issues({ kind: 'dwd_warning', minLevel: 3, events: ['GEWITTER'] })).toEqual([{ path: 'events', message: expect.stringMatching(/STARKREGEN/) }]);
  });
});
