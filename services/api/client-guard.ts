// Per client address, before authentication: a budget of failed authentications, so guessing tokens
// turns into 429s after a short burst and never into one token lookup per guess. [issue 11, OWASP ASVS 2.2.1]

export interface GuardOptions {
  /** failed authentications one address may make per window */
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

export class AuthFailureGuard {
  private windows = new Map<string, { start: number; n: number }>();
  private readonly now: () => number;
  constructor(private opts: GuardOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** true when this address used up its budget of failures in the current window */
  blocked(addr: string): boolean {
    const w = this.windows.get(addr);
    return !!w && this.now() - w.start < this.opts.windowMs && w.n >= this.opts.maxFailures;
  }

  /** seconds until the address may try again */
  retryAfterSec(addr: string): number {
    const w = this.windows.get(addr);
    return w ? Math.max(1, Math.ceil((w.start + this.opts.windowMs - this.now()) / 1000)) : 1;
  }

  fail(addr: string) {
    const now = this.now();
    let w = this.windows.get(addr);
    if (!w || now - w.start >= this.opts.windowMs) {
      // bounded memory under a flood from many addresses: drop finished windows first
      if (this.windows.size > 50_000) for (const [k, x] of this.windows) if (now - x.start >= this.opts.windowMs) this.windows.delete(k);
      if (this.windows.size > 50_000) this.windows.clear();
      w = { start: now, n: 0 };
      this.windows.set(addr, w);
    }
    w.n++;
  }
}
