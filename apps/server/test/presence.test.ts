// Typing and presence through a real server: an authenticated WebSocket is what makes a user
// online (apps/server counts them), on every instance of a deployment. Who is told of a change is
// tested in packages/api (test/presence.test.ts, test/typing.test.ts); here the contacts read it
// with user.presence. The grace period is shortened; the server moves presence on every second.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { defaultApiConfig } from "@parley/api";
import {
  createTestDatabase,
  describeEachProvider,
  errorCodeOf,
  postgresUrl,
  redisUrl,
  signUpAndLogIn,
  startTestServer,
  suiteServer,
  testLimits,
  wsClient,
  type LiveClient,
  type SignedIn,
  type TestServer,
} from "./harness.js";

/** Offline half a second after the last connection closes (plus up to a second until the next tick). */
const presence = { ...defaultApiConfig.presence, graceSeconds: 0.5 };
const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 5_000, interval: 20 });

describeEachProvider("typing and presence", (provider) => {
  const server = suiteServer(provider, { api: { ...testLimits(), presence } });
  const opened: LiveClient[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((client) => client.close()));
  });
  const connect = (token: string) => {
    const client = wsClient(server(), token);
    opened.push(client);
    return client;
  };
  const statusOf = async (asker: SignedIn, userId: string) => (await asker.api.user.presence.query({ userIds: [userId] }))[0]?.status;

  it("a user is online while an authenticated WebSocket of theirs is open, and offline after it closes", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    expect(await statusOf(bob, alice.id)).toBe("offline");
    const tab = connect(alice.accessToken);
    // Its first call waits for the connection to authenticate.
    expect((await tab.client.auth.me.query()).id).toBe(alice.id);
    expect(await statusOf(bob, alice.id)).toBe("online");
    await tab.close();
    await eventually(async () => expect(await statusOf(bob, alice.id)).toBe("offline"));
  });

  it("a WebSocket with a bad token does not make anyone online", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const forged = `${alice.accessToken.slice(0, -4)}AAAA`;
    const tab = connect(forged);
    expect(await errorCodeOf(tab.client.auth.me.query())).toBe("UNAUTHORIZED");
    expect(await statusOf(bob, alice.id)).toBe("offline");
  });

  it("presence.set over the WebSocket makes the user away, then online again", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const tab = connect(alice.accessToken);
    expect(await tab.client.presence.set.mutate({ status: "away" })).toEqual({ ok: true });
    expect(await statusOf(bob, alice.id)).toBe("away");
    await tab.client.presence.set.mutate({ status: "active" });
    expect(await statusOf(bob, alice.id)).toBe("online");
  });

  it("typing.set answers a member, and refuses a non-member (FORBIDDEN) and an unknown conversation (NOT_FOUND)", async () => {
    const [alice, bob, mallory] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    expect(await alice.api.typing.set.mutate({ conversationId: id })).toEqual({ ok: true });
    expect(await alice.api.typing.set.mutate({ conversationId: id })).toEqual({ ok: true });
    expect(await errorCodeOf(mallory.api.typing.set.mutate({ conversationId: id }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(alice.api.typing.set.mutate({ conversationId: "no-such-conversation" }))).toBe("NOT_FOUND");
  });
});

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
const reason = missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : "";

describe.skipIf(missing.length > 0)(`presence across two instances through Redis${reason}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  it("a user connected to one instance is online on the other, and offline there soon after that instance stops", async () => {
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const start = async () => {
      const server = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api: { ...testLimits(), presence } });
      cleanups.push(() => server.close());
      return server;
    };
    const a: TestServer = await start();
    const b: TestServer = await start();
    const [alice, bob] = await Promise.all([signUpAndLogIn(a), signUpAndLogIn(b)]);
    const tab = wsClient(a, alice.accessToken);
    cleanups.push(() => tab.close());
    await tab.client.auth.me.query();
    // bob's api talks to b: what b knows of a's users.
    await eventually(async () => expect((await bob.api.user.presence.query({ userIds: [alice.id] }))[0]?.status).toBe("online"));
    await a.close();
    await eventually(async () => expect((await bob.api.user.presence.query({ userIds: [alice.id] }))[0]?.status).toBe("offline"));
  });
});
