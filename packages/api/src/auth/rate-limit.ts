import type { Clock } from "../context.js";

export interface WindowLimit {
  /** Events allowed per window. */
  max: number;
  windowSeconds: number;
}

/**
 * Counts events per key in fixed windows. Used for failed logins (per account and per client
 * address) and sends (per user). Memory is bounded: expired windows are swept as keys are touched.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; resetsAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly limit: WindowLimit,
    private readonly clock: Clock,
  ) {}

  /** Seconds until the key may act again, or 0 when it is under its limit. */
  retryAfter(key: string): number {
    const now = this.clock.now().getTime();
    const window = this.windows.get(key);
    if (!window || window.resetsAt <= now || window.count < this.limit.max) return 0;
    return Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
  }

  record(key: string): void {
    const now = this.clock.now().getTime();
    this.sweep(now);
    const window = this.windows.get(key);
    if (!window || window.resetsAt <= now) {
      this.windows.set(key, { count: 1, resetsAt: now + this.limit.windowSeconds * 1000 });
    } else {
      window.count += 1;
    }
  }

  /** Records the event and reports whether it was over the limit. */
  take(key: string): number {
    const wait = this.retryAfter(key);
    if (wait === 0) this.record(key);
    return wait;
  }

  /** Gives back one event recorded by take() that turned out not to count. */
  refund(key: string): void {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count -= 1;
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.limit.windowSeconds * 1000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}
