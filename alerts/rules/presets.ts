// Preset rule bodies: the DWD rain criteria and the HLNUG gauge stages, expanded into plain rules.
import type { PresetInput, RuleBody } from './rule-body-schema.ts';

type Lvl = RuleBody['levels'][number];

/** moderate/severe/extreme = DWD Stufe 2/3/4 (CAP severity scale). */
function dwdLevels(window: string, [s2, s3, s4]: [number, number, number]): Lvl[] {
  // DWD: Stufe 2 from its lower bound ("15–25 l/m²": 15.0 fires), Stufe 3 and 4 strictly above theirs
  // ("> 25", "> 40"): exactly 25.0 mm in 1 h is still Stufe 2. [DWD Warnkriterien]
  return [
    { severity: 'moderate', window, threshold: s2 },
    { severity: 'severe', window, threshold: s3, strict: true },
    { severity: 'extreme', window, threshold: s4, strict: true },
  ];
}

function starkregen(p: PresetInput): RuleBody {
  return {
    name: p.name ?? 'DWD Starkregen',
    kind: 'accumulation',
    metric: 'rain_mm',
    scope: p.scope,
    levels: [
      ...dwdLevels('1h', [15, 25, 40]), // [DWD Starkregen Stufe 2–4, 1 h: 15 / >25 / >40 l/m²]
      ...dwdLevels('6h', [20, 35, 60]), // [DWD Starkregen Stufe 2–4, 6 h: 20 / >35 / >60 l/m²]
    ],
    // Rain sums fall in steps of whole blocks, so no hysteresis; 15 min keeps a short lull inside a
    // storm cell from resolving and re-firing the alarm.
    clear: { hysteresis: 0, for: '15m' },
  };
}

function dauerregen(p: PresetInput): RuleBody {
  return {
    name: p.name ?? 'DWD Dauerregen',
    kind: 'accumulation',
    metric: 'rain_mm',
    scope: p.scope,
    // Lower bounds of each level; 72 h and the Stufe 2 values are [M] in docs/reference/domain.md §1.3.
    levels: [
      ...dwdLevels('12h', [25, 40, 70]), // [DWD Dauerregen 12 h]
      ...dwdLevels('24h', [30, 50, 80]), // [DWD Dauerregen 24 h]
      ...dwdLevels('48h', [40, 60, 90]), // [DWD Dauerregen 48 h]
      ...dwdLevels('72h', [60, 90, 120]), // [DWD Dauerregen 72 h]
    ],
    clear: { hysteresis: 0, for: '1h' },
    // Dauerregen is even rain of up to about 5 l/m² per hour over many hours; more in a short time is
    // Starkregen [DWD via dpa, May 2024; docs/warning-logic.md]. Rain faster than 10 mm/h counts only at
    // 10 mm/h here, so one cloudburst (28.8 mm in 1 h) is HEFTIGER STARKREGEN and not also Dauerregen, while the
    // Stufe 4 sums (> 70 mm in 12 h, 5.8 mm/h on average) stay reachable by uneven persistent rain.
    intensityCap: 10,
  };
}

function meldestufen(p: PresetInput): RuleBody {
  const [ms1, ms2, ms3] = p.thresholds ?? [NaN, NaN, NaN]; // presence is checked by the schema
  return {
    name: p.name ?? 'Pegel Meldestufen',
    kind: 'threshold',
    metric: 'level_cm',
    scope: p.scope,
    levels: [
      { severity: 'moderate', threshold: ms1 }, // [HLNUG Meldestufe I]
      { severity: 'severe', threshold: ms2 }, // [HLNUG Meldestufe II]
      { severity: 'extreme', threshold: ms3 }, // [HLNUG Meldestufe III]
    ],
    // 5 cm is more than the ±2–3 cm sensor noise at a gauge, so a level wobbling at a stage line
    // changes the alarm once. [domain S6]
    clear: { hysteresis: 5, for: '10m' },
  };
}

const EXPANDERS = { 'dwd-starkregen': starkregen, 'dwd-dauerregen': dauerregen, 'pegel-meldestufen': meldestufen };

/** The full rule body a preset stands for (validate it with parseRuleInput like any other body). */
export function expandPreset(p: PresetInput): RuleBody {
  const body = EXPANDERS[p.preset](p);
  if (p.mode) body.mode = p.mode;
  if (p.for) body.for = p.for;
  if (p.clear) body.clear = { ...body.clear, ...Object.fromEntries(Object.entries(p.clear).filter(([, v]) => v !== undefined)) };
  if (p.enabled !== undefined) body.enabled = p.enabled;
  if (p.expectedInterval) body.expectedInterval = p.expectedInterval;
  return body;
}
