// What a started process must undo, in reverse order of starting.
import type { Logger } from 'pino';

export class Stops {
  private fns: Array<() => Promise<void>> = [];

  push(fn: () => Promise<void>): void {
    this.fns.push(fn);
  }

  /** Runs every stop, newest first; one that fails is logged and the rest still run. */
  async run(log: Logger): Promise<void> {
    for (const fn of this.fns.reverse()) {
      try {
        await fn();
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'error during shutdown');
      }
    }
    this.fns.length = 0;
  }
}
