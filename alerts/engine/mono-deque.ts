// Sliding-window minimum/maximum in amortised O(1): values that can never be the extremum again
// (an older value beaten by a newer one) are dropped on push. Only valid while points arrive in time
// order and the window start only moves forward; Series rebuilds it when either is violated.

export class MonoDeque {
  private ts: number[] = [];
  private vs: number[] = [];
  private head = 0;
  /** exclusive lower bound last expired to */
  lo = -Infinity;

  constructor(private readonly isMin: boolean) {}

  push(t: number, v: number): void {
    while (this.ts.length > this.head && this.beats(v, this.vs[this.vs.length - 1])) {
      this.ts.pop();
      this.vs.pop();
    }
    this.ts.push(t);
    this.vs.push(v);
  }

  /** Drops points with time ≤ lo. */
  expire(lo: number): void {
    this.lo = lo;
    while (this.head < this.ts.length && this.ts[this.head] <= lo) this.head++;
    if (this.head > 64 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.vs = this.vs.slice(this.head);
      this.head = 0;
    }
  }

  front(): number | undefined {
    return this.head < this.vs.length ? this.vs[this.head] : undefined;
  }

  private beats(v: number, old: number): boolean {
    return this.isMin ? v <= old : v >= old;
  }
}
