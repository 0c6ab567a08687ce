// DWD weather warnings (CAP, DWD profile) as the rule engine sees them: which rain warning is in force for a
// warncell at a time. Pure: alerts in, levels out; fetching and parsing live in services/dwd/. [docs/dwd.md]

/** One CAP alert of the DWD, reduced to what a rain warning needs (the German `info` block). */
export interface DwdAlert {
  identifier: string;
  /** epoch ms */
  sent: number;
  status: 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft';
  msgType: 'Alert' | 'Update' | 'Cancel';
  /** identifiers of the alerts this one replaces (Update) or withdraws (Cancel) */
  references: string[];
  event: string;
  /** the DWD event number (eventCode II) */
  ii: number;
  severity: 'Minor' | 'Moderate' | 'Severe' | 'Extreme';
  /** epoch ms; onset falls back to effective, then sent */
  onset: number;
  /** epoch ms; null: until further notice */
  expires: number | null;
  headline: string;
  description: string;
  /** 9-digit warncell ids (8 + AGS for a municipality) */
  warncells: string[];
}

export type RainHazard = 'starkregen' | 'dauerregen';

// [DWD CAP profile, eventCode II] rain events; docs/reference/dwd-inputs.md §1.2. The level is the CAP
// severity (Minor 1 … Extreme 4); the code only says which hazard it is.
const RAIN_CODES: Record<number, RainHazard> = {
  61: 'starkregen', // STARKREGEN
  62: 'starkregen', // HEFTIGER STARKREGEN
  66: 'starkregen', // EXTREM HEFTIGER STARKREGEN
  63: 'dauerregen', // DAUERREGEN
  64: 'dauerregen', // ERGIEBIGER DAUERREGEN
  65: 'dauerregen', // EXTREM ERGIEBIGER DAUERREGEN
  // SCHWERES GEWITTER mit HEFTIGEM / EXTREM HEFTIGEM STARKREGEN (+ Orkanböen, Hagel): the rain is the hazard here
  42: 'starkregen',
  44: 'starkregen',
  45: 'starkregen',
  46: 'starkregen',
  48: 'starkregen',
  49: 'starkregen',
  95: 'starkregen',
  96: 'starkregen',
};

export const DWD_LEVEL: Record<DwdAlert['severity'], number> = { Minor: 1, Moderate: 2, Severe: 3, Extreme: 4 };

/** The metrics a municipality's DWD warning device carries: the highest level in force (0 = none). */
export const DWD_WARNING_METRICS = ['dwd_warning_level', 'dwd_starkregen_level', 'dwd_dauerregen_level'] as const;
export type DwdWarningMetric = (typeof DWD_WARNING_METRICS)[number];

/** Starkregen or Dauerregen, or undefined for anything else (wind, frost, test warnings, advance notices). */
export function rainHazardOf(a: Pick<DwdAlert, 'ii' | 'event'>): RainHazard | undefined {
  // [DWD CAP profile] the advance-notice codes collide with ordinary ones (65!): the event text tells them apart
  if (/VORABINFORMATION/i.test(a.event)) return undefined;
  return RAIN_CODES[a.ii];
}

/**
 * The alerts of a snapshot still in force: an Update replaces what it references, a Cancel withdraws it
 * (and is itself no warning), test and exercise messages never count. A STAT snapshot lists everything in
 * force, so an alert missing from the newest snapshot has ended.
 */
export function effectiveAlerts(snapshot: DwdAlert[]): DwdAlert[] {
  const real = snapshot.filter((a) => a.status === 'Actual');
  const replaced = new Set(real.flatMap((a) => a.references));
  return real.filter((a) => a.msgType !== 'Cancel' && !replaced.has(a.identifier));
}

export interface WarncellLevels {
  dwd_warning_level: number;
  dwd_starkregen_level: number;
  dwd_dauerregen_level: number;
  /** the alerts behind the levels, highest first */
  alerts: DwdAlert[];
}

const inForce = (a: DwdAlert, t: number) => a.onset <= t && (a.expires === null || t < a.expires);

/** The rain warning levels in force for one warncell at time t (0 when none). */
export function levelsAt(alerts: DwdAlert[], warncell: string, t: number): WarncellLevels {
  const out: WarncellLevels = { dwd_warning_level: 0, dwd_starkregen_level: 0, dwd_dauerregen_level: 0, alerts: [] };
  for (const a of alerts) {
    const hazard = rainHazardOf(a);
    if (!hazard || !inForce(a, t) || !a.warncells.includes(warncell)) continue;
    const level = DWD_LEVEL[a.severity];
    const key = hazard === 'starkregen' ? 'dwd_starkregen_level' : 'dwd_dauerregen_level';
    out[key] = Math.max(out[key], level);
    out.dwd_warning_level = Math.max(out.dwd_warning_level, level);
    out.alerts.push(a);
  }
  out.alerts.sort((x, y) => DWD_LEVEL[y.severity] - DWD_LEVEL[x.severity]);
  return out;
}

/** The times in (from, to] at which some rain alert of the warncell starts or ends: a level change is
 *  stamped with the DWD's own onset or expiry, not with the moment we noticed it. */
export function boundariesBetween(alerts: DwdAlert[], warncell: string, from: number, to: number): number[] {
  const ts = new Set<number>();
  for (const a of alerts) {
    if (!rainHazardOf(a) || !a.warncells.includes(warncell)) continue;
    for (const t of [a.onset, a.expires]) if (t !== null && t > from && t <= to) ts.add(t);
  }
  return [...ts].sort((x, y) => x - y);
}

/** Warncell of a municipality from its 12-digit ARS: 8 + AGS, the AGS being ARS without the Gemeindeverband
 *  (digits 6–9). [docs/reference/dwd-inputs.md §1.3] */
export function warncellOfArs(ars: string): string {
  return `8${ars.slice(0, 5)}${ars.slice(9, 12)}`;
}
