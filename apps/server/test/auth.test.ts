import jwt from "jsonwebtoken";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  describeEachProvider,
  errorCodeOf,
  errorOf,
  httpClient,
  signUpAndLogIn,
  startTestServer,
  TEST_JWT_SECRET,
  uniqueName,
  type TestServer,
  testLimits,
} from "./harness.js";

const PASSWORD = "correct horse battery";

describeEachProvider("auth", (provider) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(provider, {
      api: testLimits({ loginFailuresPerAccountAndAddress: { max: 3, windowSeconds: 60 }, messagesPerUser: { max: 1000, windowSeconds: 10 } }),
    });
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });
  const anon = () => httpClient(server);

  it("signup stores the username in lower case and defaults fullName to an empty string", async () => {
    const name = uniqueName("MiXeD");
    const user = await anon().auth.signup.mutate({ username: name, password: PASSWORD });
    expect(user).toEqual({ id: expect.any(String), username: name.toLowerCase(), fullName: "" });
  });

  it("signup refuses a name that differs from a taken one only in case, with CONFLICT", async () => {
    const name = uniqueName("case");
    await anon().auth.signup.mutate({ username: name, password: PASSWORD });
    expect(await errorCodeOf(anon().auth.signup.mutate({ username: name.toUpperCase(), password: PASSWORD }))).toBe("CONFLICT");
  });

  it.each([
    ["a username of 2 characters", { username: "ab", password: PASSWORD }],
    ["a username of 33 characters", { username: "a".repeat(33), password: PASSWORD }],
    ["a username with a space", { username: "bad name", password: PASSWORD }],
    ["a username with a non-ASCII letter", { username: "jos\u00e9", password: PASSWORD }],
    ["a password of 7 characters", { username: "validname", password: "1234567" }],
    ["a password of 129 characters", { username: "validname", password: "p".repeat(129) }],
    ["a fullName of 101 characters", { username: "validname", password: PASSWORD, fullName: "f".repeat(101) }],
  ])("signup refuses %s with BAD_REQUEST and stores nothing", async (_, input) => {
    const before = await countUsers();
    expect(await errorCodeOf(anon().auth.signup.mutate(input))).toBe("BAD_REQUEST");
    expect(await countUsers()).toBe(before);
  });

  it("signup accepts the limits: 3 and 32 character names of every allowed character, 8 and 128 character passwords", async () => {
    const short = `a${uniqueName().slice(-2)}`.slice(0, 3);
    await anon().auth.signup.mutate({ username: short, password: "p".repeat(8) });
    const long = `Aa0_.-${uniqueName()}`.padEnd(32, "x").slice(0, 32);
    const user = await anon().auth.signup.mutate({ username: long, password: "p".repeat(128), fullName: "f".repeat(100) });
    expect(user.username).toBe(long.toLowerCase());
  });

  it("login works with either spelling of the name and returns a token pair", async () => {
    const name = uniqueName("Spell");
    await anon().auth.signup.mutate({ username: name, password: PASSWORD });
    const tokens = await anon().auth.login.mutate({ username: name.toUpperCase(), password: PASSWORD });
    expect(tokens).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    const me = await httpClient(server, () => tokens.accessToken).auth.me.query();
    expect(me.username).toBe(name.toLowerCase());
  });

  it("login fails with the same UNAUTHORIZED message for a wrong password and an unknown user", async () => {
    const user = await signUpAndLogIn(server);
    const wrongPassword = await errorOf(anon().auth.login.mutate({ username: user.username, password: "wrong password" }));
    const unknownUser = await errorOf(anon().auth.login.mutate({ username: uniqueName("nobody"), password: PASSWORD }));
    expect(wrongPassword.data?.code).toBe("UNAUTHORIZED");
    expect(unknownUser.data?.code).toBe("UNAUTHORIZED");
    expect(wrongPassword.message).toBe(unknownUser.message);
  });

  it("passwords are compared exactly: a different case is a wrong password", async () => {
    const user = await signUpAndLogIn(server);
    expect(await errorCodeOf(anon().auth.login.mutate({ username: user.username, password: PASSWORD.toUpperCase() }))).toBe("UNAUTHORIZED");
  });

  it("access tokens live 30 minutes and refresh tokens 7 days", async () => {
    const user = await signUpAndLogIn(server);
    const access = jwt.decode(user.accessToken) as jwt.JwtPayload;
    const refresh = jwt.decode(user.refreshToken) as jwt.JwtPayload;
    expect((access.exp ?? 0) - (access.iat ?? 0)).toBe(30 * 60);
    expect((refresh.exp ?? 0) - (refresh.iat ?? 0)).toBe(7 * 24 * 60 * 60);
  });

  it("auth.me answers the caller, and UNAUTHORIZED without a token", async () => {
    const user = await signUpAndLogIn(server);
    expect(await user.api.auth.me.query()).toEqual({ id: user.id, username: user.username, fullName: `Full ${user.username}` });
    expect(await errorCodeOf(anon().auth.me.query())).toBe("UNAUTHORIZED");
  });

  it("malformed, expired, foreign-key and refresh tokens are all UNAUTHORIZED as access tokens", async () => {
    const user = await signUpAndLogIn(server);
    const { sub, sid } = jwt.decode(user.accessToken) as jwt.JwtPayload;
    const now = Math.floor(Date.now() / 1000);
    const sign = (payload: object, secret = TEST_JWT_SECRET, options: jwt.SignOptions = {}) =>
      jwt.sign({ sid, ...payload }, secret, { issuer: "parley", audience: "parley:access", subject: sub, ...options });
    const bad = [
      "not-a-jwt",
      `${user.accessToken}x`,
      sign({ iat: now - 3600, exp: now - 60 }),
      sign({ exp: now + 600 }, "another-secret-that-is-long-enough-0123456789"),
      sign({ exp: now + 600 }, TEST_JWT_SECRET, { algorithm: "HS512" }),
      sign({ exp: now + 600 }, TEST_JWT_SECRET, { audience: "someone-else" }),
      user.refreshToken,
    ];
    for (const token of bad) expect(await errorCodeOf(httpClient(server, () => token).auth.me.query())).toBe("UNAUTHORIZED");
  });

  it("an access token is not accepted as a refresh token", async () => {
    const user = await signUpAndLogIn(server);
    expect(await errorCodeOf(anon().auth.refresh.mutate({ refreshToken: user.accessToken }))).toBe("UNAUTHORIZED");
  });

  it("refresh rotates: the new pair works and the refresh token it was given stops working", async () => {
    const user = await signUpAndLogIn(server);
    const next = await anon().auth.refresh.mutate({ refreshToken: user.refreshToken });
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect((await httpClient(server, () => next.accessToken).auth.me.query()).id).toBe(user.id);
    expect(await errorCodeOf(anon().auth.refresh.mutate({ refreshToken: user.refreshToken }))).toBe("UNAUTHORIZED");
  });

  it("presenting a used refresh token again revokes every refresh token of that login, and no other", async () => {
    const user = await signUpAndLogIn(server);
    const otherLogin = await anon().auth.login.mutate({ username: user.username, password: PASSWORD });
    const second = await anon().auth.refresh.mutate({ refreshToken: user.refreshToken });
    expect(await errorCodeOf(anon().auth.refresh.mutate({ refreshToken: user.refreshToken }))).toBe("UNAUTHORIZED");
    // The thief's reuse also ends the legitimate holder's newest token and its access token.
    expect(await errorCodeOf(anon().auth.refresh.mutate({ refreshToken: second.refreshToken }))).toBe("UNAUTHORIZED");
    expect(await errorCodeOf(httpClient(server, () => second.accessToken).auth.me.query())).toBe("UNAUTHORIZED");
    const stillFine = await anon().auth.refresh.mutate({ refreshToken: otherLogin.refreshToken });
    expect((await httpClient(server, () => stillFine.accessToken).auth.me.query()).id).toBe(user.id);
  });

  it("of two concurrent refreshes with the same token, at most one succeeds", async () => {
    const user = await signUpAndLogIn(server);
    const results = await Promise.allSettled([
      anon().auth.refresh.mutate({ refreshToken: user.refreshToken }),
      anon().auth.refresh.mutate({ refreshToken: user.refreshToken }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled").length).toBeLessThanOrEqual(1);
  });

  it("logout revokes the refresh token and the session's access tokens", async () => {
    const user = await signUpAndLogIn(server);
    expect(await anon().auth.logout.mutate({ refreshToken: user.refreshToken })).toEqual({ ok: true });
    expect(await errorCodeOf(anon().auth.refresh.mutate({ refreshToken: user.refreshToken }))).toBe("UNAUTHORIZED");
    expect(await errorCodeOf(user.api.auth.me.query())).toBe("UNAUTHORIZED");
  });

  it("logout with a token that is not a refresh token is UNAUTHORIZED", async () => {
    expect(await errorCodeOf(anon().auth.logout.mutate({ refreshToken: "garbage" }))).toBe("UNAUTHORIZED");
  });

  it("repeated failed logins are answered with TOO_MANY_REQUESTS and a retry time, even with the right password", async () => {
    const user = await signUpAndLogIn(server);
    for (let i = 0; i < 3; i += 1) {
      expect(await errorCodeOf(anon().auth.login.mutate({ username: user.username, password: "wrong password" }))).toBe("UNAUTHORIZED");
    }
    const limited = await errorOf(anon().auth.login.mutate({ username: user.username, password: PASSWORD }));
    expect(limited.data?.code).toBe("TOO_MANY_REQUESTS");
    expect((limited.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
  });

  it("user.list returns every registered user, with no password hashes", async () => {
    const a = await signUpAndLogIn(server);
    const b = await signUpAndLogIn(server);
    const users = await a.api.user.list.query();
    expect(users.map((u) => u.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(users.length).toBe(await countUsers());
    for (const u of users) expect(Object.keys(u).sort()).toEqual(["fullName", "id", "username"]);
    expect(await errorCodeOf(anon().user.list.query())).toBe("UNAUTHORIZED");
  });

  async function countUsers(): Promise<number> {
    return server.services.db.prisma.user.count();
  }
});
