import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Clock } from "../clock.js";

export interface WindowLimit {
  /** Events allowed per window. */
  max: number;
  windowSeconds: number;
}

/**
 * A fixed-window limit on events per key. Every limit of the API goes through this interface, so
 * whether it is counted in this process or shared by every instance through Redis is decided once,
 * in createServices. Keys are the caller's business (a user id, an address, "all").
 */
export interface Limiter {
  /** Seconds until the key may act again, or 0 when it is under its limit. Counts nothing. */
  retryAfter(key: string): Promise<number>;
  /** Counts one event that has already happened (a failed login). */
  record(key: string): Promise<void>;
  /**
   * Counts `points` events (default 1) if they fit under the key's limit: 0 when counted, else the
   * seconds to wait, and nothing is counted.
   */
  take(key: string, points?: number): Promise<number>;
  /** Gives back events counted by take() that turned out not to count. */
  refund(key: string, points?: number): Promise<void>;
  clear(key: string): Promise<void>;
}

/** The same limiter, calling `onRefused` each time take() refuses (metrics count refusals by limit). */
export function countingRefusals(limiter: Limiter, onRefused: () => void): Limiter {
  return {
    ...limiter,
    async take(key, points) {
      const wait = await limiter.take(key, points);
      if (wait > 0) onRefused();
      return wait;
    },
  };
}

/** Makes the limiters of one process; `name` keeps limits with different purposes apart. */
export interface LimiterStore {
  limiter(name: string, limit: WindowLimit, options?: { maxKeys?: number }): Limiter;
  /** Resolves when the store can answer (at once for memory). */
  ready(timeoutMs: number): Promise<void>;
  close(): void;
}

/**
 * Counts events per key in fixed windows, in this process. Memory is bounded: expired windows are
 * swept as keys are touched, and `maxKeys` (for long windows) forgets the oldest keys beyond it.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; resetsAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly limit: WindowLimit,
    private readonly clock: Clock,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {}

  /** Seconds until the key may count `points` more events, or 0 when they fit under its limit. */
  retryAfter(key: string, points = 1): number {
    const now = this.clock.now().getTime();
    const window = this.windows.get(key);
    if (!window || window.resetsAt <= now || window.count + points <= this.limit.max) return 0;
    return Math.max(1, Math.ceil((window.resetsAt - now) / 1000));
  }

  record(key: string, points = 1): void {
    const now = this.clock.now().getTime();
    this.sweep(now);
    const window = this.windows.get(key);
    if (!window || window.resetsAt <= now) {
      this.windows.delete(key);
      this.windows.set(key, { count: points, resetsAt: now + this.limit.windowSeconds * 1000 });
      if (this.windows.size > this.maxKeys) {
        const oldest = this.windows.keys().next();
        // Stryker disable next-line ConditionalExpression: the map holds more than maxKeys >= 0 keys here, so it has a first one
        if (!oldest.done) this.windows.delete(oldest.value);
      }
    } else {
      window.count += points;
    }
  }

  /**
   * Records `points` events if they fit under the limit and returns 0; else records nothing and
   * returns the seconds until they would fit (at least 1).
   */
  take(key: string, points = 1): number {
    const wait = this.retryAfter(key, points);
    if (wait === 0) this.record(key, points);
    return wait;
  }

  /** Gives back `points` events recorded by take() that turned out not to count. */
  refund(key: string, points = 1): void {
    const window = this.windows.get(key);
    if (window) window.count = Math.max(0, window.count - points);
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  /** Keys held in memory: ended windows count until the next sweep forgets them. */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    // Stryker disable next-line ArithmeticOperator: both mutants sweep at nearly every event instead, which costs only time
    if (now - this.lastSweep < this.limit.windowSeconds * 1000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}

/** One instance's limits: a WindowCounter per limiter, answered without any I/O. */
export class MemoryLimiterStore implements LimiterStore {
  constructor(private readonly clock: Clock) {}

  limiter(_name: string, limit: WindowLimit, options: { maxKeys?: number } = {}): Limiter {
    const counter = new WindowCounter(limit, this.clock, options.maxKeys);
    return {
      retryAfter: (key) => Promise.resolve(counter.retryAfter(key)),
      record: (key) => Promise.resolve(counter.record(key)),
      take: (key, points) => Promise.resolve(counter.take(key, points)),
      refund: (key, points) => Promise.resolve(counter.refund(key, points)),
      clear: (key) => Promise.resolve(counter.clear(key)),
    };
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}

export interface RedisLimiterOptions {
  url: string;
  /** Prefixes every key, so deployments sharing a Redis do not share counters. */
  keyPrefix: string;
  /** Told when Redis fails; the limits then fall back to this instance's memory until it is back. */
  onError?: (error: unknown) => void;
  /** Told when the connection is (again) ready. */
  onReady?: () => void;
}

/**
 * Limits shared by every instance through Redis (rate-limiter-flexible's atomic Lua counter: one
 * round trip per take/record). When Redis cannot answer, each limiter answers from an in-memory
 * "insurance" limiter instead: limits stay enforced per instance rather than refusing every login
 * and message while Redis is down (failing closed would turn a Redis outage into a full outage).
 */
export class RedisLimiterStore implements LimiterStore {
  private readonly client: Redis;

  constructor(private readonly options: RedisLimiterOptions) {
    this.client = new Redis(options.url, {
      // Stryker disable next-line StringLiteral: a name only Redis's CLIENT LIST shows
      connectionName: "parley-limits",
      // Fail at once while disconnected, so the insurance limiter answers instead of a queue.
      // Stryker disable next-line BooleanLiteral: timing only - with a queue, the insurance answers after the first failed reconnect
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A Redis that accepts connections but does not answer must not hold up logins and sends.
      commandTimeout: 1_000,
      // Stryker disable next-line MethodExpression,ArithmeticOperator: timing only - the delay between reconnects
      retryStrategy: (attempt: number) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)),
    });
    this.client.on("error", (error: unknown) => options.onError?.(error));
    this.client.on("ready", () => options.onReady?.());
  }

  limiter(name: string, limit: WindowLimit): Limiter {
    const common = { points: limit.max, duration: limit.windowSeconds };
    const redis = new RateLimiterRedis({
      ...common,
      storeClient: this.client,
      keyPrefix: `${this.options.keyPrefix}:${name}`,
      insuranceLimiter: new RateLimiterMemory({ ...common, keyPrefix: name }),
    });
    const secondsOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return {
      async retryAfter(key) {
        const res = await redis.get(key);
        if (!res || res.consumedPoints < limit.max) return 0;
        // Stryker disable next-line ConditionalExpression,EqualityOperator: timing only - a counted key has a TTL, so msBeforeNext <= 0 only in the instant it expires
        return res.msBeforeNext > 0 ? secondsOf(res) : 0;
      },
      async record(key) {
        await redis.penalty(key, 1);
      },
      async take(key, points = 1) {
        try {
          await redis.consume(key, points);
          return 0;
        } catch (rejection) {
          // Stryker disable next-line ConditionalExpression: with an insurance limiter, consume() rejects only with a RateLimiterRes (store errors go to the insurance)
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          // consume() counts the points even when it refuses them; a refused take counts nothing, so
          // it must not use up budget that smaller takes would still fit in, nor outweigh a refund().
          await redis.reward(key, points);
          return secondsOf(rejection);
        }
      },
      async refund(key, points = 1) {
        await redis.reward(key, points);
      },
      async clear(key) {
        await redis.delete(key);
      },
    };
  }

  async ready(timeoutMs: number): Promise<void> {
    if (this.client.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stryker disable next-line StringLiteral: memory only - a listener left behind would settle a settled promise
        this.client.off("ready", onReady);
        reject(new Error("redis did not become ready in time"));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once("ready", onReady);
    });
  }

  close(): void {
    this.client.disconnect();
  }
}
