/** Keys remembered at most; past it the oldest is forgotten (only a clock set far back gets near it). */
const MAX_KEYS = 100_000;

/**
 * Lets each key through at most once per interval, and remembers a key only for that interval.
 * Keys are kept in the order they passed, so the expired ones are always at the front and each
 * call forgets them in time proportional to how many expired: no timer, no sweep of the whole map.
 */
export class Throttle {
  /** When each key last passed, oldest first. */
  private readonly passedAt = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** True when `key` has not passed in the last interval (it passes now); false when it must wait. */
  pass(key: string, now: number): boolean {
    this.forgetExpired(now);
    if (this.passedAt.has(key)) return false;
    if (this.passedAt.size >= MAX_KEYS) this.forgetOldest();
    this.passedAt.set(key, now);
    return true;
  }

  /** Keys remembered (for tests: memory stays bounded). */
  get size(): number {
    return this.passedAt.size;
  }

  private forgetExpired(now: number): void {
    for (const [key, at] of this.passedAt) {
      if (at + this.intervalMs > now) return;
      this.passedAt.delete(key);
    }
  }

  private forgetOldest(): void {
    const oldest = this.passedAt.keys().next();
    if (!oldest.done) this.passedAt.delete(oldest.value);
  }
}
