// With REDIS_URL set, limits are counted once for the deployment, not once per instance.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  errorCodeOf,
  httpClient,
  postgresUrl,
  redisUrl,
  signUpAndLogIn,
  startTestServer,
  testLimits,
  type TestServer,
  type TestServerOptions,
} from "./harness.js";
import { tcpProxy } from "@parley/api/testing/tcp-proxy";

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
const reason = missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : "";
const PASSWORD = "correct horse battery";

describe.skipIf(missing.length > 0)(`limits shared by instances through Redis${reason}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  /** Instances on one fresh PostgreSQL database; each on the given Redis channel (one deployment per channel). */
  async function cluster(channels: string[], options: TestServerOptions = {}): Promise<TestServer[]> {
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const servers: TestServer[] = [];
    for (const channel of channels) {
      const server = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, ...options });
      cleanups.push(() => server.close());
      servers.push(server);
    }
    return servers;
  }

  it("10 failed logins spread over two instances lock the account for that address on both", async () => {
    const channel = `parley:test:${randomUUID()}`;
    const [a, b] = (await cluster([channel, channel], { api: testLimits() })) as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    for (let i = 0; i < 10; i += 1) {
      const via = i % 2 === 0 ? a : b;
      expect(await errorCodeOf(httpClient(via).auth.login.mutate({ username: alice.username, password: "wrong password" }))).toBe("UNAUTHORIZED");
    }
    expect(await errorCodeOf(httpClient(a).auth.login.mutate({ username: alice.username, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    expect(await errorCodeOf(httpClient(b).auth.login.mutate({ username: alice.username, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
  });

  it("messages sent through two instances meet one shared per-user limit, not one per instance", async () => {
    const channel = `parley:test:${randomUUID()}`;
    const [a, b] = (await cluster([channel, channel], { api: testLimits({ messagesPerUser: { max: 20, windowSeconds: 60 } }) })) as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(b);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const viaB = httpClient(b, () => alice.accessToken);
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const api = i % 2 === 0 ? alice.api : viaB;
      outcomes.push(
        await api.message.send.mutate({ conversationId: id, content: `m${i}`, clientMessageId: `m${i}` }).then(
          () => "sent",
          (error: unknown) => String((error as { data?: { code?: string } }).data?.code),
        ),
      );
    }
    expect(outcomes.filter((o) => o === "sent")).toHaveLength(20);
    expect(outcomes.slice(20)).toEqual(Array(20).fill("TOO_MANY_REQUESTS"));
  });

  it("deployments sharing one Redis under different channels do not share counters", async () => {
    const [a, other] = (await cluster([`parley:test:${randomUUID()}`, `parley:test:${randomUUID()}`], {
      api: testLimits({ loginFailuresPerAddress: { max: 3, windowSeconds: 60 } }),
    })) as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(other);
    for (let i = 0; i < 3; i += 1) await errorCodeOf(httpClient(a).auth.login.mutate({ username: alice.username, password: "wrong password" }));
    expect(await errorCodeOf(httpClient(a).auth.login.mutate({ username: alice.username, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    expect(await httpClient(other).auth.login.mutate({ username: bob.username, password: PASSWORD })).toHaveProperty("accessToken");
  });

  it("with Redis unreachable, limits still hold per instance and calls are answered, not failed", async () => {
    const redisPort = Number(new URL(redisUrl ?? "redis://127.0.0.1:6379").port || 6379);
    const front = await tcpProxy(redisPort);
    cleanups.push(() => front.close());
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const server = await startTestServer("postgresql", {
      database,
      redisUrl: `redis://127.0.0.1:${front.port}`,
      redisChannel: `parley:test:${randomUUID()}`,
      api: testLimits({ loginFailuresPerAddress: { max: 3, windowSeconds: 60 } }),
    });
    cleanups.push(() => server.close());
    const alice = await signUpAndLogIn(server);
    await front.cut();
    for (let i = 0; i < 3; i += 1) {
      expect(await errorCodeOf(httpClient(server).auth.login.mutate({ username: alice.username, password: "wrong password" }))).toBe("UNAUTHORIZED");
    }
    expect(await errorCodeOf(httpClient(server).auth.login.mutate({ username: alice.username, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
  });
});
