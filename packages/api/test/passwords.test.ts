import argon2 from "argon2";
import { beforeAll, describe, expect, it } from "vitest";
import { OWASP_MINIMUM, PasswordHasher } from "../src/auth/passwords.js";

const PASSWORD = "correct horse battery staple";

// argon2 at OWASP cost is deliberately slow, so the tests share one hasher and one hash.
const hasher = new PasswordHasher();
let storedHash: string;

beforeAll(async () => {
  storedHash = await hasher.hash(PASSWORD);
});

/** The cost in a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$...` (argon2 writes m, p, t in any order). */
function argon2Parameters(hash: string): { memoryCost: number; timeCost: number; parallelism: number } {
  const match = /^\$argon2id\$v=19\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/.exec(hash);
  if (!match?.[1]) throw new Error(`not an argon2id v19 hash: ${hash.slice(0, 30)}`);
  const params = new Map(match[1].split(",").map((pair) => [pair.slice(0, 1), Number(pair.slice(2))] as const));
  return { memoryCost: params.get("m") ?? 0, timeCost: params.get("t") ?? 0, parallelism: params.get("p") ?? 0 };
}

describe("PasswordHasher", () => {
  it("hashes with argon2id at no less than OWASP's minimum cost", () => {
    const cost = argon2Parameters(storedHash);
    expect(cost.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(cost.timeCost).toBeGreaterThanOrEqual(2);
    expect(cost.parallelism).toBeGreaterThanOrEqual(1);
  });

  it("salts: the same password hashed twice gives different hashes", async () => {
    expect(await hasher.hash(PASSWORD)).not.toBe(storedHash);
  });

  it("verifies the right password", async () => {
    expect(await hasher.verify(storedHash, PASSWORD)).toBe(true);
  });

  it("rejects a wrong password", async () => {
    expect(await hasher.verify(storedHash, `${PASSWORD}!`)).toBe(false);
  });

  it("answers false, not an exception, for a stored value that is not a hash", async () => {
    expect(await hasher.verify("not-a-hash", PASSWORD)).toBe(false);
  });

  it("verifyDummy computes a real hash once, then verifies against it like a login (it takes a login slot)", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 0, signupConcurrent: 1, signupQueued: 0 });
    const dummy = hasher.verifyDummy("some password");
    // The dummy's hash (a login-lane computation) holds the only slot: a login now finds no room.
    await expect(hasher.verify(storedHash, PASSWORD)).rejects.toMatchObject({ kind: "rate_limited" });
    await expect(dummy).resolves.toBe(false);
    await expect(hasher.verifyDummy("another password")).resolves.toBe(false);
  });

  it("verifyDummy does not keep a failed computation: the next unknown-user login works", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 0, signupConcurrent: 1, signupQueued: 0 });
    const busy = hasher.hash("a signup holding the only slot");
    await expect(hasher.verifyDummy("some password")).rejects.toMatchObject({ kind: "rate_limited" });
    await busy;
    // The next one computes the hash again at once (it takes the only slot, so a login finds none),
    // rather than verifying against a kept failure, which would answer faster than a real login.
    const dummy = hasher.verifyDummy("some password");
    await expect(hasher.verify(storedHash, PASSWORD)).rejects.toMatchObject({ kind: "rate_limited" });
    await expect(dummy).resolves.toBe(false);
  });

  it("verifyDummy resolves false even for the dummy's own password", async () => {
    await expect(hasher.verifyDummy("parley-dummy-password-for-timing")).resolves.toBe(false);
  });

  it("asks for a rehash of a hash made with a lower cost", async () => {
    const weak = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 });
    expect(hasher.needsRehash(weak)).toBe(true);
  });

  it("does not ask for a rehash of a hash made with the current cost", () => {
    expect(hasher.needsRehash(storedHash)).toBe(false);
  });

  it.each([
    ["memory", { ...OWASP_MINIMUM, memoryCost: 8192 }],
    ["time", { ...OWASP_MINIMUM, timeCost: 1 }],
  ])("refuses to be constructed with a %s cost below OWASP's minimum", (_name, cost) => {
    expect(() => new PasswordHasher(cost)).toThrow(/OWASP/);
  });
});

describe("PasswordHasher's cost check", () => {
  it("refuses to be constructed with parallelism below OWASP's minimum of 1", () => {
    expect(() => new PasswordHasher({ ...OWASP_MINIMUM, parallelism: 0 })).toThrow(/OWASP/);
  });
});

describe("PasswordHasher's turn-taking", () => {
  it("runs at most `concurrent` computations at once and turns work away past the queue", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 2, signupConcurrent: 1, signupQueued: 2 });
    const running = [hasher.hash("first password"), hasher.hash("second password"), hasher.hash("third password")];
    expect(hasher.load).toBe(3);
    await expect(hasher.hash("fourth password")).rejects.toMatchObject({ kind: "rate_limited" });
    const hashes = await Promise.all(running);
    expect(new Set(hashes).size).toBe(3);
    expect(hasher.load).toBe(0);
  });
});

describe("PasswordHasher's lanes: signups cannot crowd out logins", () => {
  it("a full signup queue turns signups away but still takes logins", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 2, queued: 5, signupConcurrent: 1, signupQueued: 2 });
    const signups = [hasher.hash("signup one"), hasher.hash("signup two"), hasher.hash("signup three")];
    await expect(hasher.hash("signup four")).rejects.toMatchObject({ kind: "rate_limited" });
    await expect(hasher.verify(storedHash, PASSWORD)).resolves.toBe(true);
    await Promise.all(signups);
  });

  it("counts waiting logins and waiting signups in its load", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 5, signupConcurrent: 1, signupQueued: 5 });
    const work = [hasher.hash("signup one"), hasher.verify(storedHash, PASSWORD), hasher.verify(storedHash, PASSWORD), hasher.hash("signup two")];
    // One running, two logins and one signup waiting.
    expect(hasher.load).toBe(4);
    await Promise.all(work);
    expect(hasher.load).toBe(0);
  });

  it("each lane has its own queue limit: logins past theirs are turned away while signups still queue", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 1, signupConcurrent: 1, signupQueued: 3 });
    const first = hasher.hash("signup one");
    const waitingLogin = hasher.verify(storedHash, PASSWORD);
    await expect(hasher.verify(storedHash, PASSWORD)).rejects.toMatchObject({ kind: "rate_limited" });
    const waitingSignups = [hasher.hash("signup two"), hasher.hash("signup three")];
    await expect(waitingLogin).resolves.toBe(true);
    await Promise.all([first, ...waitingSignups]);
  });

  it("runs at most signupConcurrent signups at once, even after logins have come and gone", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 3, queued: 5, signupConcurrent: 1, signupQueued: 0 });
    // Logins finishing must not free signup slots they never held.
    await hasher.verify(storedHash, PASSWORD);
    await hasher.verify(storedHash, PASSWORD);
    const first = hasher.hash("signup one");
    // A free slot, but the signup lane is full and has no queue: turned away.
    await expect(hasher.hash("signup two")).rejects.toMatchObject({ kind: "rate_limited" });
    await first;
    await expect(hasher.hash("signup three")).resolves.toMatch(/^\$argon2id\$/);
  });

  it("a freed slot goes to a waiting login before any waiting signup", async () => {
    const hasher = new PasswordHasher(OWASP_MINIMUM, { concurrent: 1, queued: 5, signupConcurrent: 1, signupQueued: 5 });
    const finished: string[] = [];
    const track = (name: string, work: Promise<unknown>) => work.then(() => finished.push(name));
    const all = [
      track("signup 1", hasher.hash("signup one")),
      track("signup 2", hasher.hash("signup two")),
      track("signup 3", hasher.hash("signup three")),
      track("login", hasher.verify(storedHash, PASSWORD)),
    ];
    await Promise.all(all);
    expect(finished).toEqual(["signup 1", "login", "signup 2", "signup 3"]);
  });
});
