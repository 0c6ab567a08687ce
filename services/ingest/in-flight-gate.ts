// A global cap on uplinks being worked on (decoded, queued for the writer, waiting for their commit). Past the
// cap an uplink waits here, first come first served, before any work is done on it. The broker calls back
// (PUBACK) only when its uplink is stored, and aedes reads nothing more from a connection whose packets are
// not all answered, so waiting here stops the sockets being read: TCP backpressure reaches the devices and
// memory stays bounded however many connections publish at once. [docs/guarantees.md Backpressure]

export class InFlightGate {
  private active = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`in-flight limit must be at least 1, got ${limit}`);
  }

  /** uplinks being worked on now */
  get inFlight(): number {
    return this.active;
  }

  /** uplinks waiting for a place */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when the caller may start; always call `release()` once afterwards. Waiters are served in
   *  arrival order and nobody overtakes them, so uplinks of one device keep their order. */
  acquire(): Promise<void> | undefined {
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next)
      next(); // the place passes straight to the next waiter
    else this.active--;
  }
}
