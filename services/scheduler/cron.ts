// Periodic jobs on node-cron without its console noise. On a loaded machine a tick that comes more than a second
// late counts as "missed", and node-cron prints a warning per missed tick to stderr (and one per tick skipped
// because the previous run still runs). For a periodic job that is normal under load: the next tick runs it.
// Here a missed or skipped tick is logged at debug, and at warn once per job per hour at most, with how many
// ticks were missed since the last warning — so an operator still learns that the process is too busy.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

const REPORT_EVERY_MS = 3_600_000;

export interface PeriodicJob {
  stop: () => Promise<void>;
  /** ticks missed (late or still running) since the job started */
  missed: () => number;
}

/** Runs `fn` on the cron `expression` (seconds field included), never two runs at once. */
export function schedulePeriodic(
  expression: string,
  name: string,
  fn: () => Promise<unknown> | undefined,
  log: Logger,
  now: () => number = Date.now,
): PeriodicJob {
  let missed = 0;
  let unreported = 0;
  let lastReport: number | undefined;
  const noteMissed = (why: 'late' | 'still running') => {
    missed++;
    unreported++;
    log.debug({ job: name, why, missed }, 'periodic job tick missed');
    if (lastReport === undefined || now() - lastReport >= REPORT_EVERY_MS) {
      log.warn(
        { job: name, missed_ticks: unreported },
        `periodic job ${name} missed ${unreported} tick(s) because the process was busy; it runs at its next tick (reported at most once an hour)`,
      );
      lastReport = now();
      unreported = 0;
    }
  };
  const task: ScheduledTask = cron.schedule(
    expression,
    () => void fn()?.catch((e) => log.warn({ job: name, err: (e as Error).message }, 'periodic job failed')),
    {
      name,
      noOverlap: true,
      suppressMissedWarning: true,
      // node-cron's own messages (the overlap warning, a task error) go to our log, not to the console
      logger: {
        info: (m) => log.debug({ job: name }, m),
        warn: (m) => (m.includes('overlap') ? noteMissed('still running') : log.warn({ job: name }, m)),
        error: (m, err) => log.error({ job: name, err: (err ?? m) instanceof Error ? ((err ?? m) as Error).message : String(m) }, 'periodic job failed'),
        debug: (m) => log.debug({ job: name }, String(m)),
      },
    },
  );
  task.on('execution:missed', () => noteMissed('late'));
  return {
    stop: async () => {
      await task.stop();
    },
    missed: () => missed,
  };
}
