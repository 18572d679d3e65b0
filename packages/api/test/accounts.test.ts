// Accounts as a client sees them: login lockouts per address and per account, signup turns, the
// session a logout or a reused refresh token ends (and only that one), and what other instances
// learn of it. Real SQLite, real argon2, small limits so that a lockout takes a few attempts.
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { createContext, createServices, defaultApiConfig, type ApiConfig, type Services } from "../src/context.js";
import { InProcessEventBus, type EventBus, type ParleyEvent } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import type { TokensDto } from "../src/schemas.js";
import { fakeClock, suiteDatabase, TEST_SECRET, testConfig, trpcErrorOf, type FakeClock } from "./helpers.js";

const PASSWORD = "a good long password";
const WRONG = "not the password at all";

const suite = suiteDatabase();
let nextName = 0;

type Limits = ApiConfig["limits"];

async function servicesWith(
  options: { limits?: Partial<Limits>; config?: Partial<ApiConfig>; bus?: EventBus; clock?: FakeClock } = {},
): Promise<Services> {
  const config = testConfig({ ...options.config, limits: { ...defaultApiConfig.limits, ...options.limits } });
  const services = await createServices({ db: suite.database.db, bus: options.bus ?? new InProcessEventBus(), config, clock: options.clock });
  suite.opened.push(services);
  return services;
}

function callerFor(services: Services, options: { token?: string; address?: string } = {}) {
  return createCaller(createContext(services, options.token, options.address ?? "192.0.2.1"));
}

/** A fresh username per call: the tests share one suite.database. */
function uniqueName(): string {
  nextName += 1;
  return `user${nextName}`;
}

async function signUp(services: Services, username = uniqueName()): Promise<string> {
  await callerFor(services, { address: `198.51.100.${nextName % 250}` }).auth.signup({ username, password: PASSWORD, fullName: "Someone" });
  return username;
}

function logIn(services: Services, username: string, address: string, password = PASSWORD): Promise<TokensDto> {
  return callerFor(services, { address }).auth.login({ username, password });
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  return (await trpcErrorOf(call)).code;
}

describe("login failures counted per address", () => {
  it("lock an address out of every account once it has failed on enough of them", async () => {
    const services = await servicesWith({ limits: { loginFailuresPerAddress: { max: 3, windowSeconds: 900 } } });
    const owner = await signUp(services);
    for (const name of [uniqueName(), uniqueName(), uniqueName()]) {
      expect(await codeOf(logIn(services, name, "203.0.113.9", WRONG))).toBe("UNAUTHORIZED");
    }
    expect(await codeOf(logIn(services, owner, "203.0.113.9"))).toBe("TOO_MANY_REQUESTS");
    await expect(logIn(services, owner, "203.0.113.10")).resolves.toHaveProperty("accessToken");
  });
});

describe("login failures counted per account and address", () => {
  const limits = { loginFailuresPerAccountAndAddress: { max: 2, windowSeconds: 900 } };

  it("lock that address out of that account only", async () => {
    const services = await servicesWith({ limits });
    const owner = await signUp(services);
    const other = await signUp(services);
    for (let i = 0; i < 2; i++) expect(await codeOf(logIn(services, owner, "203.0.113.20", WRONG))).toBe("UNAUTHORIZED");
    const error = await trpcErrorOf(logIn(services, owner, "203.0.113.20"));
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/Try again in \d+ seconds/);
    await expect(logIn(services, other, "203.0.113.20")).resolves.toHaveProperty("accessToken");
    await expect(logIn(services, owner, "203.0.113.21")).resolves.toHaveProperty("accessToken");
  });

  it("start again from zero after a good login from that address", async () => {
    const services = await servicesWith({ limits });
    const owner = await signUp(services);
    expect(await codeOf(logIn(services, owner, "203.0.113.30", WRONG))).toBe("UNAUTHORIZED");
    await logIn(services, owner, "203.0.113.30");
    expect(await codeOf(logIn(services, owner, "203.0.113.30", WRONG))).toBe("UNAUTHORIZED");
    await expect(logIn(services, owner, "203.0.113.30")).resolves.toHaveProperty("accessToken");
  });
});

describe("login failures counted per account", () => {
  const limits = { loginFailuresPerAccount: { max: 2, windowSeconds: 3600 } };

  it("lock the account for new addresses but not for one it logged in from", async () => {
    const services = await servicesWith({ limits });
    const owner = await signUp(services);
    await logIn(services, owner, "203.0.113.40");
    expect(await codeOf(logIn(services, owner, "203.0.113.41", WRONG))).toBe("UNAUTHORIZED");
    expect(await codeOf(logIn(services, owner, "203.0.113.42", WRONG))).toBe("UNAUTHORIZED");
    expect(await codeOf(logIn(services, owner, "203.0.113.43"))).toBe("TOO_MANY_REQUESTS");
    await expect(logIn(services, owner, "203.0.113.40")).resolves.toHaveProperty("accessToken");
    // The owner's login does not hand a guesser a fresh budget.
    expect(await codeOf(logIn(services, owner, "203.0.113.43"))).toBe("TOO_MANY_REQUESTS");
  });
});

describe("login of an unknown user", () => {
  const hashing = { concurrent: 1, queued: 0, signupConcurrent: 1, signupQueued: 0 };

  it("takes a turn of argon2 work like a known user's, so it is turned away when the hasher is full", async () => {
    const services = await servicesWith({ config: { hashing } });
    const owner = await signUp(services);
    const busy = services.passwords.hash("holds the only slot", "login");
    try {
      expect(await codeOf(logIn(services, uniqueName(), "203.0.113.50", WRONG))).toBe("TOO_MANY_REQUESTS");
      expect(await codeOf(logIn(services, owner, "203.0.113.50", WRONG))).toBe("TOO_MANY_REQUESTS");
    } finally {
      await busy;
    }
  });

  it("is answered like a known user's wrong password again once the hasher has room", async () => {
    const services = await servicesWith({ config: { hashing } });
    const owner = await signUp(services);
    const busy = services.passwords.hash("holds the only slot", "login");
    expect(await codeOf(logIn(services, uniqueName(), "203.0.113.51", WRONG))).toBe("TOO_MANY_REQUESTS");
    await busy;
    expect(await codeOf(logIn(services, uniqueName(), "203.0.113.51", WRONG))).toBe("UNAUTHORIZED");
    expect(await codeOf(logIn(services, owner, "203.0.113.51", WRONG))).toBe("UNAUTHORIZED");
  });
});

describe("the hasher's lanes", () => {
  it("signups hash one at a time: with no signup queue, a second one at once is turned away", async () => {
    const services = await servicesWith({ config: { hashing: { concurrent: 2, queued: 10, signupConcurrent: 1, signupQueued: 0 } } });
    const signup = (address: string) =>
      callerFor(services, { address }).auth.signup({ username: uniqueName(), password: PASSWORD, fullName: "Someone" });
    const [first, second] = await Promise.allSettled([signup("203.0.113.100"), signup("203.0.113.101")]);
    expect(first.status).toBe("fulfilled");
    expect(second).toMatchObject({ status: "rejected", reason: { code: "TOO_MANY_REQUESTS" } });
  });

  it("a login that stores its hash again does so in the login lane, not behind waiting signups", async () => {
    const owner = await signUp(await servicesWith());
    const stronger = { ...defaultApiConfig.passwordCost, timeCost: defaultApiConfig.passwordCost.timeCost + 1 };
    const services = await servicesWith({ config: { passwordCost: stronger, hashing: { concurrent: 2, queued: 10, signupConcurrent: 1, signupQueued: 10 } } });
    // One signup hashing and four waiting hold the signup lane for the whole login.
    const signups = Array.from({ length: 5 }, (_, i) => services.passwords.hash(`signup ${i}`, "signup"));
    try {
      await expect(logIn(services, owner, "203.0.113.102")).resolves.toHaveProperty("accessToken");
    } finally {
      await Promise.all(signups);
    }
  });
});

describe("a login with a hash made at a lower cost", () => {
  it("stores the password again at the current cost", async () => {
    const before = await servicesWith();
    const owner = await signUp(before);
    const stronger = { ...defaultApiConfig.passwordCost, timeCost: defaultApiConfig.passwordCost.timeCost + 1 };
    const after = await servicesWith({ config: { passwordCost: stronger } });
    await logIn(after, owner, "203.0.113.60");
    const row = await suite.database.db.prisma.user.findUniqueOrThrow({ where: { username: owner }, select: { passwordHash: true } });
    expect(row.passwordHash).toContain(`t=${stronger.timeCost}`);
    expect(after.passwords.needsRehash(row.passwordHash)).toBe(false);
    await expect(logIn(after, owner, "203.0.113.60")).resolves.toHaveProperty("accessToken");
  });

  it("but a hash made at the current cost is kept as it is", async () => {
    const services = await servicesWith();
    const owner = await signUp(services);
    const hashOf = async () => (await suite.database.db.prisma.user.findUniqueOrThrow({ where: { username: owner } })).passwordHash;
    const before = await hashOf();
    await logIn(services, owner, "203.0.113.61");
    expect(await hashOf()).toBe(before);
  });
});

describe("signup turns", () => {
  it("a signup refused by the overall limit does not count against the caller's address", async () => {
    const clock = fakeClock(new Date());
    const services = await servicesWith({
      clock,
      limits: { signupsPerAddress: { max: 2, windowSeconds: 3600 }, signupsOverall: { max: 1, windowSeconds: 60 } },
    });
    const caller = callerFor(services, { address: "203.0.113.70" });
    const signup = () => caller.auth.signup({ username: uniqueName(), password: PASSWORD, fullName: "Someone" });
    await signup();
    expect(await codeOf(signup())).toBe("TOO_MANY_REQUESTS");
    clock.advanceSeconds(61);
    await signup();
    expect(await codeOf(signup())).toBe("TOO_MANY_REQUESTS");
  });

  it("an address gets its limit of signups, and its refused ones leave the overall limit alone", async () => {
    const services = await servicesWith({
      limits: { signupsPerAddress: { max: 1, windowSeconds: 3600 }, signupsOverall: { max: 2, windowSeconds: 3600 } },
    });
    const signupFrom = (address: string) =>
      callerFor(services, { address }).auth.signup({ username: uniqueName(), password: PASSWORD, fullName: "Someone" });
    await signupFrom("203.0.113.71");
    const error = await trpcErrorOf(signupFrom("203.0.113.71"));
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/^Too many signups\. Try again in \d+ seconds\.$/);
    await signupFrom("203.0.113.72");
    expect(await codeOf(signupFrom("203.0.113.73"))).toBe("TOO_MANY_REQUESTS");
  });

  it("a taken username is a conflict, also when the full name is that username", async () => {
    const services = await servicesWith();
    const existing = await signUp(services);
    const error = await trpcErrorOf(callerFor(services).auth.signup({ username: existing, password: PASSWORD, fullName: existing }));
    expect([error.code, error.message]).toEqual(["CONFLICT", "That username is taken"]);
  });

  it("a database failure is not reported as a taken username", async () => {
    const services = await servicesWith();
    const { prisma } = suite.database.db;
    await prisma.$executeRawUnsafe(
      `CREATE TRIGGER "refuse_doomed" BEFORE INSERT ON "User" WHEN NEW."username" = 'doomed' BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END`,
    );
    try {
      const error = await trpcErrorOf(callerFor(services).auth.signup({ username: "doomed", password: PASSWORD, fullName: "" }));
      expect(error.code).toBe("INTERNAL_SERVER_ERROR");
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER "refuse_doomed"`);
    }
  });

  it("a full name that reads as another user's username is refused, and nothing is stored", async () => {
    const services = await servicesWith();
    const existing = await signUp(services);
    const username = uniqueName();
    const error = await trpcErrorOf(callerFor(services).auth.signup({ username, password: PASSWORD, fullName: ` @${existing.toUpperCase()} ` }));
    expect([error.code, error.message]).toEqual(["BAD_REQUEST", "full name must not be another user's username"]);
    expect(await suite.database.db.prisma.user.count({ where: { username } })).toBe(0);
  });

  it("so is one with spaces after its @", async () => {
    const services = await servicesWith();
    const existing = await signUp(services);
    const error = await trpcErrorOf(callerFor(services).auth.signup({ username: uniqueName(), password: PASSWORD, fullName: `@  ${existing}` }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it("a full name with an @ inside is not read as a username", async () => {
    const services = await servicesWith();
    const existing = await signUp(services);
    const fullName = `${existing.slice(0, 2)}@${existing.slice(2)}`;
    await expect(callerFor(services).auth.signup({ username: uniqueName(), password: PASSWORD, fullName })).resolves.toMatchObject({ fullName });
  });

  it.each([
    ["the new user's own username", (own: string) => own],
    ["a name no one has", () => "nobody-has-this-name"],
    ["a name that could not be a username", () => "Ada Lovelace"],
  ])("a full name that is %s is accepted", async (_case, fullNameOf) => {
    const services = await servicesWith();
    const username = uniqueName();
    await expect(callerFor(services).auth.signup({ username, password: PASSWORD, fullName: fullNameOf(username) })).resolves.toMatchObject({
      username,
    });
  });
});

describe("logout", () => {
  it("ends only the session of its refresh token: every other session still refreshes", async () => {
    const services = await servicesWith();
    const alice = await signUp(services);
    const bob = await signUp(services);
    const ending = await logIn(services, alice, "203.0.113.80");
    const aliceOther = await logIn(services, alice, "203.0.113.80");
    const bobs = await logIn(services, bob, "203.0.113.81");
    await callerFor(services).auth.logout({ refreshToken: ending.refreshToken });
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: ending.refreshToken }))).toBe("UNAUTHORIZED");
    await expect(callerFor(services).auth.refresh({ refreshToken: aliceOther.refreshToken })).resolves.toHaveProperty("accessToken");
    await expect(callerFor(services).auth.refresh({ refreshToken: bobs.refreshToken })).resolves.toHaveProperty("accessToken");
  });

  it("tells every instance on the bus, which then refuses the session's access token", async () => {
    const bus = new InProcessEventBus();
    const events: ParleyEvent[] = [];
    bus.subscribe((event) => events.push(event));
    const clock = fakeClock(new Date());
    const here = await servicesWith({ bus, clock });
    const there = await servicesWith({ bus, clock });
    const session = await logIn(here, await signUp(here), "203.0.113.82");
    await callerFor(there, { token: session.accessToken }).auth.me();
    await callerFor(here).auth.logout({ refreshToken: session.refreshToken });
    expect(await codeOf(callerFor(there, { token: session.accessToken }).auth.me())).toBe("UNAUTHORIZED");
    const sessionId = here.tokens.verifyRefresh(session.refreshToken)?.sessionId;
    expect(events).toEqual([
      { type: "session-revoked", sessionId, expiresAt: clock.now().getTime() + defaultApiConfig.accessTtlSeconds * 1000 },
    ]);
  });

  it("is refused by an instance started after it, for as long as the access token could live", async () => {
    const clock = fakeClock(new Date());
    const services = await servicesWith({ clock });
    const session = await logIn(services, await signUp(services), "203.0.113.83");
    await callerFor(services).auth.logout({ refreshToken: session.refreshToken });
    const restarted = await servicesWith({ clock });
    expect(await codeOf(callerFor(restarted, { token: session.accessToken }).auth.me())).toBe("UNAUTHORIZED");
  });

  it("succeeds, and ends the session here, when the bus cannot publish", async () => {
    const bus = new InProcessEventBus();
    bus.publish = () => Promise.reject(new Error("redis is down"));
    const services = await servicesWith({ bus });
    const session = await logIn(services, await signUp(services), "203.0.113.84");
    await expect(callerFor(services).auth.logout({ refreshToken: session.refreshToken })).resolves.toEqual({ ok: true });
    expect(await codeOf(callerFor(services, { token: session.accessToken }).auth.me())).toBe("UNAUTHORIZED");
  });

  it("keeps the time the session first ended when it is logged out again", async () => {
    const clock = fakeClock(new Date());
    const services = await servicesWith({ clock });
    const session = await logIn(services, await signUp(services), "203.0.113.85");
    const sessionId = services.tokens.verifyRefresh(session.refreshToken)?.sessionId;
    await callerFor(services).auth.logout({ refreshToken: session.refreshToken });
    const endedAt = clock.now();
    clock.advanceSeconds(60);
    await callerFor(services).auth.logout({ refreshToken: session.refreshToken });
    const row = await suite.database.db.prisma.session.findUniqueOrThrow({ where: { id: sessionId }, select: { revokedAt: true } });
    expect(row.revokedAt?.getTime()).toBe(endedAt.getTime());
  });

  it("with a token that is not a refresh token is UNAUTHORIZED", async () => {
    const services = await servicesWith();
    const session = await logIn(services, await signUp(services), "203.0.113.86");
    expect(await codeOf(callerFor(services).auth.logout({ refreshToken: session.accessToken }))).toBe("UNAUTHORIZED");
    await expect(callerFor(services, { token: session.accessToken }).auth.me()).resolves.toHaveProperty("id");
  });
});

describe("auth.me", () => {
  it("with a valid token of a user that no longer exists is UNAUTHORIZED", async () => {
    const services = await servicesWith();
    const token = services.tokens.issueAccess("deleted-user", "session-of-deleted-user");
    expect(await codeOf(callerFor(services, { token }).auth.me())).toBe("UNAUTHORIZED");
  });
});

describe("refresh", () => {
  /** A refresh token signed with the server's secret, for claims the server never issues. */
  function refreshTokenByHand(claims: { sub: string; sid: string; jti: string }): string {
    const iat = Math.floor(Date.now() / 1000);
    return jwt.sign({ ...claims, iat, exp: iat + 600 }, TEST_SECRET, { algorithm: "HS256", issuer: "parley", audience: "parley:refresh" });
  }

  it("gives a pair that works: the access token calls, the refresh token refreshes", async () => {
    const services = await servicesWith();
    const username = await signUp(services);
    const session = await logIn(services, username, "203.0.113.90");
    const fresh = await callerFor(services).auth.refresh({ refreshToken: session.refreshToken });
    await expect(callerFor(services, { token: fresh.accessToken }).auth.me()).resolves.toMatchObject({ username });
    await expect(callerFor(services).auth.refresh({ refreshToken: fresh.refreshToken })).resolves.toHaveProperty("refreshToken");
  });

  it("after logout is UNAUTHORIZED, though the refresh token itself was never used", async () => {
    const services = await servicesWith();
    const session = await logIn(services, await signUp(services), "203.0.113.91");
    await callerFor(services).auth.logout({ refreshToken: session.refreshToken });
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: session.refreshToken }))).toBe("UNAUTHORIZED");
  });

  it("with a token that is not a refresh token is UNAUTHORIZED", async () => {
    const services = await servicesWith();
    const session = await logIn(services, await signUp(services), "203.0.113.93");
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: session.accessToken }))).toBe("UNAUTHORIZED");
  });

  it("of a session that does not exist is UNAUTHORIZED", async () => {
    const services = await servicesWith();
    const token = refreshTokenByHand({ sub: "no-user", sid: "no-session", jti: "no-token" });
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: token }))).toBe("UNAUTHORIZED");
  });

  it("with one session's token id under another session's id is UNAUTHORIZED and ends that session", async () => {
    const services = await servicesWith();
    const username = await signUp(services);
    const first = await logIn(services, username, "203.0.113.92");
    const second = await logIn(services, username, "203.0.113.92");
    const a = services.tokens.verifyRefresh(first.refreshToken);
    const b = services.tokens.verifyRefresh(second.refreshToken);
    if (!a || !b) throw new Error("the service's own refresh tokens must verify");
    const crossed = refreshTokenByHand({ sub: a.userId, sid: b.sessionId, jti: a.tokenId });
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: crossed }))).toBe("UNAUTHORIZED");
    expect(await codeOf(callerFor(services).auth.refresh({ refreshToken: second.refreshToken }))).toBe("UNAUTHORIZED");
    await expect(callerFor(services).auth.refresh({ refreshToken: first.refreshToken })).resolves.toHaveProperty("accessToken");
  });
});
