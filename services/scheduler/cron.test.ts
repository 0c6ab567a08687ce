import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type PeriodicJob, schedulePeriodic } from './cron.ts';

describe('periodic jobs on a busy process', () => {
  let job: PeriodicJob | undefined;
  afterEach(async () => {
    await job?.stop();
    vi.restoreAllMocks();
  });

  it('do not print a warning per missed tick to the console; our log gets one warning with the count', async () => {
    const lines: Array<{ level: number; msg: string; job?: string; missed_ticks?: number }> = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(JSON.parse(String(chunk)));
          cb();
        },
      }),
    );
    const console_ = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error'), vi.spyOn(console, 'info'), vi.spyOn(console, 'log')];
    let runs = 0;
    job = schedulePeriodic('* * * * * *', 'every-second', async () => void runs++, log);
    // the process is busy for several seconds (a blocking section, as under heavy load): every-second ticks
    // fall due meanwhile and can only be seen as missed afterwards
    const busyUntil = Date.now() + 4500;
    while (Date.now() < busyUntil) {
      /* busy */
    }
    // let the job run again after the busy section (each tick is at most a second away)
    while (runs < 2) await new Promise((r) => setTimeout(r, 100));
    expect(job.missed()).toBeGreaterThanOrEqual(2);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ job: 'every-second' });
    expect(warnings[0].missed_ticks).toBeGreaterThanOrEqual(1);
    for (const spy of console_) expect(spy).not.toHaveBeenCalled();
  });
});
