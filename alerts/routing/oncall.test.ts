// On-call windows on the Europe/Berlin wall clock: hours, overnight windows, holidays, summer and winter time,
// the fallback to the targets without a window, and the gaps the API flags. [issue 16]
import { describe, expect, it } from 'vitest';
import { coverageGaps, localTime, targetsOnDuty, type When, whenSchema } from './oncall.ts';
import { routeSchema } from './route-schema.ts';

type T = { name: string; when?: When };
const at = (iso: string) => Date.parse(iso);
const day: T = { name: 'Tagdienst', when: { days: ['mo', 'tu', 'we', 'th', 'fr'], from: '07:00', to: '16:00', except: ['2026-12-24'] } };
const night: T = { name: 'Nachtdienst', when: { from: '22:00', to: '06:00' } };
const fallback: T = { name: 'Leitstelle' };
const names = (ts: ReadonlyArray<{ name: string }>) => ts.map((t) => t.name);

describe('on-call windows', () => {
  it('switch at the hour on the Berlin clock, in winter (UTC+1) and in summer (UTC+2)', () => {
    // winter: 07:00 Berlin = 06:00 UTC
    expect(names(targetsOnDuty([day, fallback], at('2026-11-30T05:59:00Z')).targets)).toEqual(['Leitstelle']);
    expect(names(targetsOnDuty([day, fallback], at('2026-11-30T06:00:00Z')).targets)).toEqual(['Tagdienst']);
    expect(names(targetsOnDuty([day, fallback], at('2026-11-30T14:59:00Z')).targets)).toEqual(['Tagdienst']);
    expect(names(targetsOnDuty([day, fallback], at('2026-11-30T15:00:00Z')).targets)).toEqual(['Leitstelle']);
    // summer: 07:00 Berlin = 05:00 UTC
    expect(names(targetsOnDuty([day, fallback], at('2026-07-06T04:59:00Z')).targets)).toEqual(['Leitstelle']);
    expect(names(targetsOnDuty([day, fallback], at('2026-07-06T05:00:00Z')).targets)).toEqual(['Tagdienst']);
  });

  it('across the clock changes: the day after each change opens at 07:00 local', () => {
    // Monday after the spring change (29 March 2026) and after the autumn change (25 October 2026)
    expect(names(targetsOnDuty([day, fallback], at('2026-03-30T05:00:00Z')).targets)).toEqual(['Tagdienst']);
    expect(names(targetsOnDuty([day, fallback], at('2026-10-26T05:30:00Z')).targets)).toEqual(['Leitstelle']);
    expect(names(targetsOnDuty([day, fallback], at('2026-10-26T06:00:00Z')).targets)).toEqual(['Tagdienst']);
    // the night of the autumn change: 02:30 comes twice, both times inside 22:00–06:00
    expect(localTime(at('2026-10-25T00:30:00Z')).minute).toBe(150);
    expect(localTime(at('2026-10-25T01:30:00Z')).minute).toBe(150);
    expect(names(targetsOnDuty([night, fallback], at('2026-10-25T04:59:00Z')).targets)).toEqual(['Nachtdienst']); // 05:59 CET
    expect(names(targetsOnDuty([night, fallback], at('2026-10-25T05:00:00Z')).targets)).toEqual(['Leitstelle']); // 06:00 CET
  });

  it('an overnight window belongs to the evening it starts: Friday 22:00 runs into Saturday 06:00', () => {
    const fri: T = { name: 'Freitagnacht', when: { days: ['fr'], from: '22:00', to: '06:00' } };
    expect(names(targetsOnDuty([fri, fallback], at('2026-12-04T21:30:00Z')).targets)).toEqual(['Freitagnacht']); // Fri 22:30
    expect(names(targetsOnDuty([fri, fallback], at('2026-12-05T04:30:00Z')).targets)).toEqual(['Freitagnacht']); // Sat 05:30
    expect(names(targetsOnDuty([fri, fallback], at('2026-12-05T05:00:00Z')).targets)).toEqual(['Leitstelle']); // Sat 06:00
    expect(names(targetsOnDuty([fri, fallback], at('2026-12-04T04:30:00Z')).targets)).toEqual(['Leitstelle']); // Fri 05:30: Thursday's night
  });

  it('holidays: no window on an except date (an overnight one: the night that starts on it)', () => {
    expect(names(targetsOnDuty([day, fallback], at('2026-12-24T09:00:00Z')).targets)).toEqual(['Leitstelle']);
    expect(names(targetsOnDuty([day, fallback], at('2026-12-23T09:00:00Z')).targets)).toEqual(['Tagdienst']);
    const n: T = { name: 'Nacht', when: { from: '22:00', to: '06:00', except: ['2026-12-31'] } };
    expect(names(targetsOnDuty([n, fallback], at('2027-01-01T02:00:00Z')).targets)).toEqual(['Leitstelle']);
    expect(names(targetsOnDuty([n, fallback], at('2027-01-02T02:00:00Z')).targets)).toEqual(['Nacht']);
  });

  it('nobody on duty and no target without a window: everybody is told, and it says so', () => {
    const s = targetsOnDuty([day, night], at('2026-11-30T12:00:00Z'));
    expect(names(s.targets)).toEqual(['Tagdienst']);
    const gap = targetsOnDuty([day, night], at('2026-11-30T19:00:00Z'));
    expect(gap).toEqual({ targets: [day, night], gap: true });
    expect(targetsOnDuty([fallback], at('2026-11-30T19:00:00Z'))).toEqual({ targets: [fallback], gap: false });
  });

  it('coverage gaps: per weekday, plus the holidays still ahead; none with a target without a window', () => {
    expect(coverageGaps([day, fallback], 'targets', '2026-11-30')).toEqual([]);
    const evening: T = { name: 'Abend', when: { from: '16:00', to: '22:00' } };
    const gaps = coverageGaps([day, night, evening], 'targets', '2026-11-30');
    expect(gaps).toContainEqual({ list: 'targets', day: 'mo', from: '06:00', to: '07:00' });
    expect(gaps).toContainEqual({ list: 'targets', day: 'sa', from: '06:00', to: '16:00' });
    expect(gaps).toContainEqual({ list: 'targets', date: '2026-12-24', from: '06:00', to: '16:00' });
    expect(gaps.filter((g) => g.day === 'mo')).toHaveLength(1);
    expect(coverageGaps([day, night, evening], 'targets', '2027-01-01').some((g) => g.date)).toBe(false);
    // a whole day and night plan has no gap
    expect(coverageGaps([{ when: { from: '06:00', to: '18:00' } }, { when: { from: '18:00', to: '06:00' } }], 'targets')).toEqual([]);
  });

  it('validation says what is wrong', () => {
    const problem = (when: unknown) => {
      const r = routeSchema.safeParse({ name: 'x', targets: [{ type: 'sms', to: '+4915112345678', when }] });
      return r.success ? 'ok' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(' | ');
    };
    expect(problem({ days: ['mo'], from: '07:00', to: '16:00', except: ['2026-12-24'] })).toBe('ok');
    expect(problem([{ from: '22:00', to: '06:00' }, { days: ['sa', 'su'] }])).toBe('ok');
    expect(problem({ days: ['montag'] })).toContain('days.0: must be one of mo, tu, we, th, fr, sa, su');
    expect(problem({ from: '7:00' })).toContain('from: must be a time like 07:00');
    expect(problem({ from: '25:00' })).toContain('from: must be a time like 07:00');
    expect(problem({ from: '08:00', to: '08:00' })).toContain('targets.0.when.to: from and to are the same time');
    expect(problem({ except: ['2026-02-30'] })).toContain('is not a calendar date');
    expect(problem({ except: ['24.12.2026'] })).toContain('must be a date like 2026-12-24');
    expect(problem({ hours: '7-16' })).toContain('Unrecognized key');
    expect(problem('werktags')).toContain('must be a window');
    expect(problem([])).toContain('name at least one window');
    expect(whenSchema.safeParse({}).success, 'an empty window is every hour: on duty always').toBe(true);
  });
});
