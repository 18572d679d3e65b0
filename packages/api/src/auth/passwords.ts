import { availableParallelism } from "node:os";
import argon2 from "argon2";
import { DomainError } from "../errors.js";

/** argon2id cost. OWASP's minimum is m=19456 KiB, t=2, p=1; never configure below it. */
export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_MINIMUM: PasswordCost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface HashingLimits {
  /** argon2 computations at once. Each takes a core for tens of milliseconds. */
  concurrent: number;
  /** Login computations waiting for a turn; beyond this, logins are turned away. */
  queued: number;
  /** Of `concurrent`, how many signups may hold at once. */
  signupConcurrent: number;
  /** Signups waiting for a turn; beyond this, signups are turned away. */
  signupQueued: number;
}

/**
 * Leaves a core to the event loop, so a burst of logins slows logins, not message delivery.
 * Signups get one slot and a short queue, and wait behind every waiting login: a signup flood
 * cannot make existing users' logins fail.
 */
export const defaultHashingLimits: HashingLimits = {
  concurrent: Math.max(1, availableParallelism() - 1),
  queued: 200,
  signupConcurrent: 1,
  signupQueued: 20,
};

/** Whose turn a computation takes: logins of existing accounts (and their rehash) go first. */
export type HashingLane = "login" | "signup";

const BUSY = "The server is busy. Try again in a few seconds.";

export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;
  private running = 0;
  private signupsRunning = 0;
  private readonly waiting: Record<HashingLane, (() => void)[]> = { login: [], signup: [] };

  constructor(
    private readonly cost: PasswordCost = OWASP_MINIMUM,
    private readonly limits: HashingLimits = defaultHashingLimits,
  ) {
    const belowMinimum = (Object.keys(OWASP_MINIMUM) as (keyof PasswordCost)[]).some(
      (key) => !Number.isInteger(cost[key]) || cost[key] < OWASP_MINIMUM[key],
    );
    if (belowMinimum) {
      throw new Error("argon2id cost is below OWASP's minimum (m=19456 KiB, t=2, p=1)");
    }
  }

  /** Signups by default: a new caller gets the lane that cannot crowd out logins. */
  hash(password: string, lane: HashingLane = "signup"): Promise<string> {
    return this.inTurn(lane, () => argon2.hash(password, { type: argon2.argon2id, ...this.cost }));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.inTurn("login", () => argon2.verify(hash, password).catch(() => false));
  }

  /** True when a stored hash was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, { ...this.cost });
  }

  /**
   * Verifies against a fixed hash, for logins of unknown users: the answer takes as long as for a
   * known user with a wrong password, so timing does not reveal which names exist.
   */
  async verifyDummy(password: string): Promise<false> {
    // A failed computation (the hasher was busy) is not kept: every later unknown-user login would
    // fail the same way, unlike a known user's, which would tell the two apart.
    this.dummyHash ??= this.hash("parley-dummy-password-for-timing", "login").catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** argon2 computations running or waiting. */
  get load(): number {
    return this.running + this.waiting.login.length + this.waiting.signup.length;
  }

  private async inTurn<T>(lane: HashingLane, work: () => Promise<T>): Promise<T> {
    if (this.mayStart(lane)) {
      this.start(lane);
    } else {
      const queue = this.waiting[lane];
      if (queue.length >= (lane === "login" ? this.limits.queued : this.limits.signupQueued)) {
        throw new DomainError("rate_limited", BUSY, 5);
      }
      // A finishing computation hands its slot over: start() has already counted this one.
      await new Promise<void>((resolve) => queue.push(resolve));
    }
    try {
      return await work();
    } finally {
      this.running -= 1;
      if (lane === "signup") this.signupsRunning -= 1;
      this.handOver();
    }
  }

  private mayStart(lane: HashingLane): boolean {
    if (this.running >= this.limits.concurrent) return false;
    if (lane === "login") return true;
    return this.waiting.login.length === 0 && this.signupsRunning < this.limits.signupConcurrent;
  }

  private start(lane: HashingLane): void {
    this.running += 1;
    if (lane === "signup") this.signupsRunning += 1;
  }

  private handOver(): void {
    for (const lane of ["login", "signup"] as const) {
      const next = this.waiting[lane][0];
      if (next && this.mayStart(lane)) {
        this.waiting[lane].shift();
        this.start(lane);
        next();
        return;
      }
    }
  }
}
