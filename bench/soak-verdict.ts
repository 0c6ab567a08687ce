// The verdict of a soak run (bench/soak.ts) against the issue's criterion, as a pure function over the
// per-minute series and the maintenance-job runs, so the rules can be tested without a half-hour run:
// - RSS and event-loop lag flat after warm-up: the median of the last few minutes against the median of the
//   first few minutes after warm-up grew by at most 10 % (lag: or by at most 2 ms, below which it is noise);
// - p99 alarm latency stable: every storm's 200 alarms all arrived (no timeouts), and no storm's p99 is above
//   1.5 × the median storm p99 (a storm getting slower over the run would show as exactly this);
// - compression and retention ran: each at least twice during the soak, and each did work (a chunk compressed
//   or dropped, rows deleted on plain PostgreSQL) at least once;
// - nothing lost: every reading the broker acknowledged was stored.

export interface VerdictMinute {
  minute: number;
  rss_mb_max: number;
  lag_ms_p99: number;
  storm?: { p99?: number; timeouts: number };
}

export interface VerdictJobRun {
  /** compression | retention | other */
  kind: 'compression' | 'retention' | 'other';
  chunks?: number;
  rows?: number;
}

export interface SoakVerdict {
  warm_up_minutes: number;
  window_minutes: number;
  rss: { first_mb: number; last_mb: number; growth_pct: number; pass: boolean };
  lag: { first_ms: number; last_ms: number; growth_pct: number; pass: boolean };
  storms: { p99_ms: Array<number | null>; timeouts: number[]; median_p99_ms: number | null; max_over_median: number | null; pass: boolean };
  jobs: {
    compression: { runs: number; worked: number; pass: boolean };
    retention: { runs: number; worked: number; pass: boolean };
    other_runs: number;
  };
  lost: { readings: number; pass: boolean };
  pass: boolean;
  criteria: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const pct = (a: number, b: number) => (a > 0 ? r1((100 * (b - a)) / a) : 0);

export function soakVerdict(
  minutes: VerdictMinute[],
  runs: VerdictJobRun[],
  o: { warmUpMinutes: number; lost: number; store: 'pg' | 'embedded'; minRuns?: number },
): SoakVerdict {
  const after = minutes.filter((m) => m.minute > o.warmUpMinutes);
  const series = after.length ? after : minutes;
  // up to three minutes at each end, never overlapping
  const w = Math.max(1, Math.min(3, Math.floor(series.length / 2)));
  const first = series.slice(0, w);
  const last = series.slice(-w);
  const rssA = median(first.map((m) => m.rss_mb_max));
  const rssB = median(last.map((m) => m.rss_mb_max));
  const lagA = median(first.map((m) => m.lag_ms_p99));
  const lagB = median(last.map((m) => m.lag_ms_p99));
  const rssGrowth = pct(rssA, rssB);
  const lagGrowth = pct(lagA, lagB);

  const storms = minutes.filter((m) => m.storm).map((m) => m.storm as NonNullable<VerdictMinute['storm']>);
  const p99s = storms.map((s) => (typeof s.p99 === 'number' && Number.isFinite(s.p99) ? s.p99 : null));
  const known = p99s.filter((x): x is number => x !== null);
  const med = known.length ? median(known) : null;
  const maxOverMed = med && known.length ? Math.round((Math.max(...known) / med) * 100) / 100 : null;
  const stormsPass = storms.length > 0 && storms.every((s) => s.timeouts === 0) && known.length === storms.length && maxOverMed !== null && maxOverMed <= 1.5;

  const minRuns = o.minRuns ?? 2;
  const did = (r: VerdictJobRun) => (r.chunks ?? 0) > 0 || (r.rows ?? 0) > 0;
  const comp = runs.filter((r) => r.kind === 'compression');
  const ret = runs.filter((r) => r.kind === 'retention');
  const compression = {
    runs: comp.length,
    worked: comp.filter(did).length,
    // plain PostgreSQL has no compression: not a failure of the run, but nothing to show either
    pass: o.store === 'pg' ? false : comp.length >= minRuns && comp.some(did),
  };
  const retention = { runs: ret.length, worked: ret.filter(did).length, pass: ret.length >= minRuns && ret.some(did) };

  const v: SoakVerdict = {
    warm_up_minutes: o.warmUpMinutes,
    window_minutes: w,
    rss: { first_mb: r1(rssA), last_mb: r1(rssB), growth_pct: rssGrowth, pass: rssGrowth <= 10 },
    lag: { first_ms: r1(lagA), last_ms: r1(lagB), growth_pct: lagGrowth, pass: lagGrowth <= 10 || lagB - lagA <= 2 },
    storms: { p99_ms: p99s, timeouts: storms.map((s) => s.timeouts), median_p99_ms: med, max_over_median: maxOverMed, pass: stormsPass },
    jobs: { compression, retention, other_runs: runs.filter((r) => r.kind === 'other').length },
    lost: { readings: o.lost, pass: o.lost === 0 },
    pass: false,
    criteria: `after ${o.warmUpMinutes} min warm-up, median of the last ${w} min vs the first ${w} min: RSS growth <= 10 %, event-loop lag p99 growth <= 10 % (or <= 2 ms); every storm without timeouts and its p99 <= 1.5 x the median storm p99; compression and retention each ran >= ${minRuns} times and did work at least once; no acknowledged reading lost`,
  };
  v.pass = v.rss.pass && v.lag.pass && v.storms.pass && compression.pass && retention.pass && v.lost.pass;
  return v;
}

/** The verdict as a few lines for the terminal. */
export function verdictLines(v: SoakVerdict): string[] {
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  return [
    `verdict: ${ok(v.pass)} (${v.criteria})`,
    `  RSS ${v.rss.first_mb} → ${v.rss.last_mb} MB (${v.rss.growth_pct} %): ${ok(v.rss.pass)}`,
    `  event-loop lag p99 ${v.lag.first_ms} → ${v.lag.last_ms} ms (${v.lag.growth_pct} %): ${ok(v.lag.pass)}`,
    `  storm p99 ${v.storms.p99_ms.map((x) => (x === null ? '—' : `${x}`)).join(', ')} ms, timeouts ${v.storms.timeouts.join(', ')}, max/median ${v.storms.max_over_median ?? '—'}: ${ok(v.storms.pass)}`,
    `  compression ran ${v.jobs.compression.runs}× (did work ${v.jobs.compression.worked}×): ${ok(v.jobs.compression.pass)}`,
    `  retention ran ${v.jobs.retention.runs}× (did work ${v.jobs.retention.worked}×): ${ok(v.jobs.retention.pass)}; other maintenance runs ${v.jobs.other_runs}`,
    `  lost readings ${v.lost.readings}: ${ok(v.lost.pass)}`,
  ];
}
