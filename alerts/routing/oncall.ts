// On-call plans: a route target may be limited to time windows (weekdays and hours on the Europe/Berlin wall
// clock, holidays as dates). Targets with a window are told while one of their windows is on; targets
// without one are the route's defaults, told when no windowed target is on duty. A route where at some hour
// neither holds has a coverage gap: flagged in the API, and at such an hour every target of the list is
// told rather than nobody. [issue 16] [docs/formats.md On-call windows]
import { z } from 'zod';

export const WEEKDAYS = ['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const ONCALL_TIME_ZONE = 'Europe/Berlin';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const hhmmOf = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-12-24')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !/^\d{4}-\d{2}-\d{2}$/.test(s) || (Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s);
  }, 'is not a calendar date');

/** One window: on `days` (default every day) from `from` (default 00:00) to `to` (default 24:00), not on the `except` dates. */
export const oncallWindowSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }))
      .min(1, 'name at least one weekday, or leave days out for every day')
      .max(7)
      .optional(),
    from: z.string().regex(HHMM, 'must be a time like 07:00 (00:00–23:59)').optional(),
    to: z.string().regex(HHMM, 'must be a time like 16:00 (00:00–24:00; earlier than from = over midnight)').optional(),
    except: z.array(isoDate).max(400).optional(),
  })
  .refine((w) => w.from !== '24:00', { message: 'from must be before 24:00', path: ['from'] })
  .refine((w) => minutesOf(w.from ?? '00:00') !== minutesOf(w.to ?? '24:00'), {
    message: 'from and to are the same time: leave both out for the whole day',
    path: ['to'],
  });
export type OncallWindow = z.infer<typeof oncallWindowSchema>;

/** `when` on a target: one window or a list of them (the target is on while any of them is). */
const WHEN_SHAPE = 'must be a window {"days":["mo",…],"from":"07:00","to":"16:00","except":["2026-12-24"]} or a list of them';
export const whenSchema = z.union([oncallWindowSchema, z.array(oncallWindowSchema).min(1, 'name at least one window').max(20)], {
  // say what is wrong inside the window (or list) given, not only that neither shape fits
  error: (iss) => {
    if (iss.code !== 'invalid_union' || typeof iss.input !== 'object' || iss.input === null) return WHEN_SHAPE;
    const inner = iss.errors[Array.isArray(iss.input) ? 1 : 0] ?? [];
    return inner.length ? inner.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') : WHEN_SHAPE;
  },
});
export type When = z.infer<typeof whenSchema>;

const windowsOf = (w: When): OncallWindow[] => (Array.isArray(w) ? w : [w]);

/** The Europe/Berlin wall clock at an instant: local date, weekday and minute of the day. */
export interface LocalTime {
  date: string;
  day: Weekday;
  minute: number;
}

const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: ONCALL_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export function localTime(at: number): LocalTime {
  const p = Object.fromEntries(fmt.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  const date = `${p.year}-${p.month}-${p.day}`;
  return { date, day: weekdayOf(date), minute: Number(p.hour) * 60 + Number(p.minute) };
}

function weekdayOf(date: string): Weekday {
  return WEEKDAYS[(new Date(`${date}T12:00:00Z`).getUTCDay() + 6) % 7];
}
function dayBefore(date: string): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/**
 * Is this window on at local time `t`? An overnight window (to before from, e.g. 22:00–06:00) belongs to the
 * day it starts: `days` and `except` name that evening. Wall-clock minutes, so a window opens at 07:00 local
 * in summer and winter time alike; `date` undefined = any date (no exceptions apply).
 */
function windowOn(w: OncallWindow, t: { day: Weekday; minute: number; date?: string }): boolean {
  const from = minutesOf(w.from ?? '00:00');
  const to = minutesOf(w.to ?? '24:00');
  const onDay = (day: Weekday, date: string | undefined) => (!w.days || w.days.includes(day)) && !(date && w.except?.includes(date));
  if (from < to) return t.minute >= from && t.minute < to && onDay(t.day, t.date);
  const prev = WEEKDAYS[(WEEKDAYS.indexOf(t.day) + 6) % 7];
  return (t.minute >= from && onDay(t.day, t.date)) || (t.minute < to && onDay(prev, t.date && dayBefore(t.date)));
}

/** A short neutral rendering for the console: "mo,tu,we,th,fr 07:00–16:00 ≠ 2026-12-24; 22:00–06:00". */
export function describeWhen(when: When): string {
  return windowsOf(when)
    .map((w) => {
      const days = w.days && w.days.length < 7 ? `${w.days.join(',')} ` : '';
      const except = w.except?.length ? ` ≠ ${w.except.join(', ')}` : '';
      return `${days}${w.from ?? '00:00'}–${w.to ?? '24:00'}${except}`;
    })
    .join('; ');
}

export function onDuty(when: When, t: { day: Weekday; minute: number; date?: string }): boolean {
  return windowsOf(when).some((w) => windowOn(w, t));
}

export interface Selection<T> {
  targets: T[];
  /** no windowed target on duty and no default target: everybody on the list was told instead */
  gap: boolean;
}

/**
 * Who of a route's target list is told at `at`: the windowed targets on duty; none on duty → the targets
 * without a window (the defaults); none of those either → every target (never nobody).
 */
export function targetsOnDuty<T extends { when?: When }>(targets: readonly T[], at: number): Selection<T> {
  if (!targets.some((t) => t.when)) return { targets: [...targets], gap: false };
  const t = localTime(at);
  const on = targets.filter((x) => x.when && onDuty(x.when, t));
  if (on.length) return { targets: on, gap: false };
  const defaults = targets.filter((x) => !x.when);
  return defaults.length ? { targets: defaults, gap: false } : { targets: [...targets], gap: true };
}

/** A stretch of the week (or of an exception date) when nobody on a target list is on duty. */
export interface CoverageGap {
  /** which list: the route's `targets` or `escalate.targets` */
  list: 'targets' | 'escalate.targets';
  /** a weekday every week, or one date (a holiday in `except`) */
  day?: Weekday;
  date?: string;
  from: string;
  to: string;
}

/** Stretches of the day when none of the windows is on (per weekday, or on one date when `date` is given). */
function gapsOfDay(whens: When[], day: Weekday, date?: string): Array<{ from: number; to: number }> {
  const cuts = new Set([0, 1440]);
  for (const w of whens.flatMap(windowsOf)) {
    cuts.add(minutesOf(w.from ?? '00:00'));
    cuts.add(minutesOf(w.to ?? '24:00'));
  }
  const points = [...cuts].filter((m) => m <= 1440).sort((a, b) => a - b);
  const out: Array<{ from: number; to: number }> = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    if (a === b || whens.some((w) => onDuty(w, { day, minute: a, date }))) continue;
    const last = out[out.length - 1];
    if (last && last.to === a) last.to = b;
    else out.push({ from: a, to: b });
  }
  return out;
}

/**
 * The hours at which nobody on the list would be on duty by plan: none when the list has a target without a
 * window (the default) or no windows at all. Every week's gaps per weekday, then the extra gaps the `except`
 * dates from `today` on open (the date itself and, for overnight windows, the morning after).
 */
export function coverageGaps<T extends { when?: When }>(targets: readonly T[], list: CoverageGap['list'], today?: string): CoverageGap[] {
  if (!targets.some((t) => t.when) || targets.some((t) => !t.when)) return [];
  const whens = targets.map((t) => t.when!);
  const out: CoverageGap[] = [];
  const weekly = new Map<Weekday, string>();
  for (const day of WEEKDAYS) {
    const g = gapsOfDay(whens, day);
    weekly.set(day, JSON.stringify(g));
    for (const x of g) out.push({ list, day, from: hhmmOf(x.from), to: hhmmOf(x.to) });
  }
  const dates = new Set<string>();
  for (const w of whens.flatMap(windowsOf))
    for (const d of w.except ?? []) {
      if (today && d < today) continue;
      dates.add(d);
      dates.add(new Date(Date.parse(`${d}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10));
    }
  for (const date of [...dates].sort()) {
    const day = weekdayOf(date);
    const g = gapsOfDay(whens, day, date);
    if (JSON.stringify(g) === weekly.get(day)) continue;
    for (const x of g) out.push({ list, date, from: hhmmOf(x.from), to: hhmmOf(x.to) });
  }
  return out;
}
