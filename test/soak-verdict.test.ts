// The soak's verdict (bench/soak-verdict.ts) over made-up series: what the soak report says passed or failed.
import { describe, expect, it } from 'vitest';
import { soakVerdict, type VerdictJobRun, type VerdictMinute } from '../bench/soak-verdict.ts';

const flat = (n: number, f: (m: number) => Partial<VerdictMinute> = () => ({})): VerdictMinute[] =>
  Array.from({ length: n }, (_, i) => ({
    minute: i + 1,
    rss_mb_max: 500,
    lag_ms_p99: 20,
    ...((i + 1) % 5 === 0 ? { storm: { p99: 400, timeouts: 0 } } : {}),
    ...f(i + 1),
  }));
const jobs: VerdictJobRun[] = [
  { kind: 'compression', chunks: 2, rows: 100 },
  { kind: 'compression', chunks: 0, rows: 0 },
  { kind: 'retention', chunks: 1, rows: 50 },
  { kind: 'retention', chunks: 0, rows: 0 },
  { kind: 'other' },
];
const opts = { warmUpMinutes: 3, lost: 0, store: 'embedded' as const };

describe('soak verdict', () => {
  it('passes a flat run with stable storms and both jobs having run and worked', () => {
    const v = soakVerdict(flat(30), jobs, opts);
    expect(v.pass).toBe(true);
    expect(v.rss.growth_pct).toBe(0);
    expect(v.jobs).toEqual({ compression: { runs: 2, worked: 1, pass: true }, retention: { runs: 2, worked: 1, pass: true }, other_runs: 1 });
    expect(v.storms.p99_ms).toEqual([400, 400, 400, 400, 400, 400]);
  });

  it('ignores the warm-up: a high start that settles is flat, growth after it is not', () => {
    const settles = flat(30, (m) => ({ rss_mb_max: m <= 3 ? 900 : 500 }));
    expect(soakVerdict(settles, jobs, opts).rss.pass).toBe(true);
    // 500 MB rising 1 % a minute after the warm-up: the last three minutes ~27 % above the first three
    const grows = flat(30, (m) => ({ rss_mb_max: m <= 3 ? 500 : 500 * (1 + (m - 4) / 100) }));
    const v = soakVerdict(grows, jobs, opts);
    expect(v.rss.growth_pct).toBeGreaterThan(10);
    expect(v.rss.pass).toBe(false);
    expect(v.pass).toBe(false);
  });

  it('takes medians, so one spike at the end does not fail the run', () => {
    const spike = flat(30, (m) => ({ rss_mb_max: m === 30 ? 800 : 500, lag_ms_p99: m === 29 ? 900 : 20 }));
    const v = soakVerdict(spike, jobs, opts);
    expect(v.rss.pass && v.lag.pass).toBe(true);
  });

  it('calls lag growth of a millisecond or two noise, and more than 10 % above that growth', () => {
    expect(
      soakVerdict(
        flat(30, (m) => ({ lag_ms_p99: m > 20 ? 11.5 : 10 })),
        jobs,
        opts,
      ).lag.pass,
    ).toBe(true);
    const v = soakVerdict(
      flat(30, (m) => ({ lag_ms_p99: m > 20 ? 60 : 40 })),
      jobs,
      opts,
    );
    expect(v.lag.growth_pct).toBe(50);
    expect(v.lag.pass).toBe(false);
  });

  it('fails the storms when one timed out or one p99 is far above the others', () => {
    const timeout = flat(30, (m) => (m === 20 ? { storm: { timeouts: 3 } } : {}));
    const t = soakVerdict(timeout, jobs, opts);
    expect(t.storms.timeouts).toEqual([0, 0, 0, 3, 0, 0]);
    expect(t.storms.p99_ms[3]).toBeNull();
    expect(t.storms.pass).toBe(false);
    const slow = flat(30, (m) => (m === 30 ? { storm: { p99: 900, timeouts: 0 } } : {}));
    const s = soakVerdict(slow, jobs, opts);
    expect(s.storms.max_over_median).toBe(2.25);
    expect(s.storms.pass).toBe(false);
  });

  it('fails the jobs criterion when a job ran once or never did any work, and on lost readings', () => {
    const once = soakVerdict(flat(30), [jobs[0], jobs[2], jobs[3]], opts);
    expect(once.jobs.compression.pass).toBe(false);
    const idle = soakVerdict(flat(30), [jobs[0], jobs[1], { kind: 'retention', rows: 0 }, { kind: 'retention', chunks: 0 }], opts);
    expect(idle.jobs.retention).toEqual({ runs: 2, worked: 0, pass: false });
    expect(idle.pass).toBe(false);
    const lost = soakVerdict(flat(30), jobs, { ...opts, lost: 7 });
    expect(lost.lost).toEqual({ readings: 7, pass: false });
    expect(lost.pass).toBe(false);
  });

  it('on plain PostgreSQL counts the batched retention delete by the rows it deleted and shows no compression', () => {
    const v = soakVerdict(
      flat(30),
      [
        { kind: 'retention', rows: 5000 },
        { kind: 'retention', rows: 0 },
        { kind: 'retention', rows: 0 },
      ],
      { ...opts, store: 'pg' },
    );
    expect(v.jobs.retention).toEqual({ runs: 3, worked: 1, pass: true });
    expect(v.jobs.compression.pass).toBe(false);
  });

  it('works on a short run whose warm-up leaves a few minutes', () => {
    const v = soakVerdict(flat(5), jobs, { ...opts, warmUpMinutes: 1 });
    expect(v.window_minutes).toBe(2);
    expect(v.rss.pass).toBe(true);
  });
});
