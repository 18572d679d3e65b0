/**
 * Exponential backoff with jitter ("equal jitter": half of the window fixed, half random), so that
 * clients cut off together - by a server restart - do not all come back in the same instant, and
 * no retry is ever immediate.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

export function backoffDelay(attempt: number, { baseMs = 500, maxMs = 30_000, random = Math.random }: BackoffOptions = {}): number {
  const window = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(window / 2 + (random() * window) / 2);
}
