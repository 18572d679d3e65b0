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
  /** Computations waiting for a turn; beyond this, logins and signups are turned away. */
  queued: number;
}

/**
 * Leaves a core to the event loop, so a burst of logins slows logins, not message delivery.
 */
export const defaultHashingLimits: HashingLimits = { concurrent: Math.max(1, availableParallelism() - 1), queued: 200 };

export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

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

  hash(password: string): Promise<string> {
    return this.inTurn(() => argon2.hash(password, { type: argon2.argon2id, ...this.cost }));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.inTurn(() => argon2.verify(hash, password).catch(() => false));
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
    this.dummyHash ??= this.hash("parley-dummy-password-for-timing");
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** argon2 computations running or waiting. */
  get load(): number {
    return this.running + this.waiting.length;
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.concurrent) {
      this.running += 1;
    } else {
      if (this.waiting.length >= this.limits.queued) {
        throw new DomainError("rate_limited", "The server is busy. Try again in a few seconds.", 5);
      }
      // The finishing computation hands its slot over: `running` already counts this one.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
