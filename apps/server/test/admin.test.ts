// Admins over the real transports: a deactivated user's WebSocket closes at once (4004) and their
// stream ends, on the instance the admin used and on another one through Redis; the first account
// is the admin and a non-admin is refused; invite-only signups over HTTP.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  collectSync,
  createTestDatabase,
  describeEachProvider,
  errorCodeOf,
  errorOf,
  httpClient,
  postgresUrl,
  rawSocket,
  redisUrl,
  signUpAndLogIn,
  startTestServer,
  testLimits,
  waitForSubscribers,
  wsClient,
  type SignedIn,
  type TestServer,
} from "./harness.js";

const PASSWORD = "correct horse battery";
const api = testLimits();

function reasonOf(error: { data?: unknown }): unknown {
  return (error.data as { reason?: unknown } | undefined)?.reason;
}

/** A tRPC call over a raw socket that answers the server's keep-alive pings. */
async function connectedSocket(server: { port: number }, user: SignedIn) {
  const raw = await rawSocket(server, { token: user.accessToken });
  raw.socket.on("message", (data) => {
    if (data.toString() === "PING") raw.socket.send("PONG");
  });
  raw.send({ id: 1, method: "query", params: { path: "auth.me", input: null } });
  await raw.waitFor((frame) => typeof frame === "object" && frame !== null && (frame as { id?: unknown }).id === 1);
  return raw;
}

describeEachProvider("admins", (provider) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  async function server(): Promise<TestServer> {
    const started = await startTestServer(provider, { api });
    cleanups.push(() => started.database.drop(), () => started.close());
    return started;
  }

  it("a deactivated user's WebSocket closes at once with 4004, their stream ends, and their calls and login are refused", async () => {
    const s = await server();
    const admin = await signUpAndLogIn(s, "boss", PASSWORD);
    const bob = await signUpAndLogIn(s, "bob", PASSWORD);
    const raw = await connectedSocket(s, bob);
    const live = wsClient(s, bob.accessToken);
    cleanups.push(() => live.close());
    collectSync(live);
    await waitForSubscribers(s, 1);
    const presenceOfBob = async () => (await admin.api.user.presence.query({ userIds: [bob.id] }))[0]?.status;
    expect(await presenceOfBob()).toBe("online");
    await admin.api.admin.deactivate.mutate({ userId: bob.id });
    expect(await raw.closed).toEqual({ code: 4004, reason: "account deactivated" });
    // Offline at once, not after the 10 s a closed socket is given to come back.
    await expect.poll(presenceOfBob, { timeout: 3_000 }).toBe("offline");
    expect(await errorCodeOf(bob.api.auth.me.query())).toBe("UNAUTHORIZED");
    const refresh = await errorOf(httpClient(s).auth.refresh.mutate({ refreshToken: bob.refreshToken }));
    expect(reasonOf(refresh)).toBe("account_deactivated");
    const login = await errorOf(httpClient(s).auth.login.mutate({ username: "bob", password: PASSWORD }));
    expect([login.data?.code, reasonOf(login), login.message]).toEqual(["UNAUTHORIZED", "account_deactivated", expect.stringMatching(/deactivated/)]);
    await expect.poll(() => s.services.hub.subscriptionCount, { timeout: 3_000 }).toBe(0);
  });

  it("only the first account is an admin: another user's admin calls are FORBIDDEN over HTTP and WebSocket", async () => {
    const s = await server();
    const admin = await signUpAndLogIn(s, "first", PASSWORD);
    const bob = await signUpAndLogIn(s, "second", PASSWORD);
    expect(await admin.api.auth.role.query()).toEqual({ isAdmin: true });
    expect(await errorCodeOf(bob.api.admin.setSignupMode.mutate({ mode: "closed" }))).toBe("FORBIDDEN");
    const live = wsClient(s, bob.accessToken);
    cleanups.push(() => live.close());
    expect(await errorCodeOf(live.client.admin.deactivate.mutate({ userId: admin.id }))).toBe("FORBIDDEN");
    expect(await admin.api.admin.settings.query()).toEqual({ signupMode: "open" });
    expect(await admin.api.auth.role.query()).toEqual({ isAdmin: true });
  });

  it("invite only: a signup over HTTP needs the link's token, which works its number of times", async () => {
    const s = await server();
    const admin = await signUpAndLogIn(s, "first", PASSWORD);
    await admin.api.admin.setSignupMode.mutate({ mode: "invite" });
    const { token } = await admin.api.admin.createInvite.mutate({ maxUses: 1, expiresInHours: 1 });
    const anon = httpClient(s);
    const refused = await errorOf(anon.auth.signup.mutate({ username: "newbie", password: PASSWORD }));
    expect([refused.data?.code, reasonOf(refused)]).toEqual(["FORBIDDEN", "signup_not_allowed"]);
    await expect(anon.auth.signup.mutate({ username: "newbie", password: PASSWORD, inviteToken: token })).resolves.toMatchObject({ username: "newbie" });
    const again = await errorOf(anon.auth.signup.mutate({ username: "another", password: PASSWORD, inviteToken: token }));
    expect([again.data?.code, reasonOf(again)]).toEqual(["FORBIDDEN", "invite_invalid"]);
  });
});

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
const reason = missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : "";

describe.skipIf(missing.length > 0)(`deactivation across two instances on PostgreSQL and Redis${reason}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  it("a user connected to the other instance is cut off at once there, and may log in there again once reactivated", async () => {
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const [here, there] = [
      await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api }),
      await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api }),
    ];
    if (!here || !there) throw new Error("servers did not start");
    cleanups.push(() => here.close(), () => there.close());
    const admin = await signUpAndLogIn(here, "boss", PASSWORD);
    const bob = await signUpAndLogIn(there, "bob", PASSWORD);
    const raw = await connectedSocket(there, bob);
    const live = wsClient(there, bob.accessToken);
    cleanups.push(() => live.close());
    collectSync(live);
    await waitForSubscribers(there, 1);
    const presenceOfBob = async () => (await admin.api.user.presence.query({ userIds: [bob.id] }))[0]?.status;
    await expect.poll(presenceOfBob, { timeout: 3_000 }).toBe("online");

    await admin.api.admin.deactivate.mutate({ userId: bob.id });
    expect(await raw.closed).toEqual({ code: 4004, reason: "account deactivated" });
    // Offline at once on the admin's instance too, not after the grace period.
    await expect.poll(presenceOfBob, { timeout: 3_000 }).toBe("offline");
    await expect.poll(() => there.services.hub.subscriptionCount, { timeout: 3_000 }).toBe(0);
    expect(await errorCodeOf(httpClient(there, () => bob.accessToken).conversation.list.query())).toBe("UNAUTHORIZED");
    expect(reasonOf(await errorOf(httpClient(there).auth.refresh.mutate({ refreshToken: bob.refreshToken })))).toBe("account_deactivated");

    await admin.api.admin.reactivate.mutate({ userId: bob.id });
    const tokens = await httpClient(there).auth.login.mutate({ username: "bob", password: PASSWORD });
    await expect(httpClient(there, () => tokens.accessToken).auth.me.query()).resolves.toMatchObject({ id: bob.id });
    // The sessions the deactivation ended stay ended, on both instances.
    for (const instance of [here, there]) expect(await errorCodeOf(httpClient(instance, () => bob.accessToken).auth.me.query())).toBe("UNAUTHORIZED");
  });
});
