import argon2 from "argon2";

/** argon2id cost. OWASP's minimum is m=19456 KiB, t=2, p=1; never configure below it. */
export interface PasswordCost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_MINIMUM: PasswordCost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly cost: PasswordCost = OWASP_MINIMUM) {
    const belowMinimum = (Object.keys(OWASP_MINIMUM) as (keyof PasswordCost)[]).some(
      (key) => !Number.isInteger(cost[key]) || cost[key] < OWASP_MINIMUM[key],
    );
    if (belowMinimum) {
      throw new Error("argon2id cost is below OWASP's minimum (m=19456 KiB, t=2, p=1)");
    }
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.cost });
  }

  verify(hash: string, password: string): Promise<boolean> {
    return argon2.verify(hash, password).catch(() => false);
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
}
