// Several instances on one PostgreSQL database, fanning live events out through Redis.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { MessageDto } from "@parley/api/schemas";
import {
  collectLive,
  collectSync,
  createTestDatabase,
  errorOf,
  httpClient,
  postgresUrl,
  redisUrl,
  signUpAndLogIn,
  sleep,
  startTestServer,
  TEST_JWT_SECRET,
  waitForSubscribers,
  wsClient,
  type LiveClient,
  type SignedIn,
  type TestDatabase,
  type TestServer,
  testLimits,
} from "./harness.js";
import { balancer, tcpProxy, type Proxy } from "@parley/api/testing/tcp-proxy";

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
const reason = missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : "";
/** Generous limits: these tests send fast on purpose. */
const api = testLimits();
const bundle = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe.skipIf(missing.length > 0)(`several instances on PostgreSQL and Redis${reason}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  /** Two instances on one fresh database and one fresh Redis channel. */
  async function cluster(count = 2, extra: { databaseUrl?: string }[] = []): Promise<{ servers: TestServer[]; database: TestDatabase; channel: string }> {
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const servers: TestServer[] = [];
    for (let i = 0; i < count; i += 1) {
      const server = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api, ...extra[i] });
      cleanups.push(() => server.close());
      servers.push(server);
    }
    return { servers, database, channel };
  }

  function live(server: { url: string; port: number }, user: SignedIn): LiveClient {
    const client = wsClient(server, user.accessToken);
    cleanups.push(() => client.close());
    return client;
  }

  async function allStored(user: SignedIn, conversationId: string): Promise<MessageDto[]> {
    const pages: MessageDto[][] = [];
    let cursor: string | null = null;
    do {
      const page: { items: MessageDto[]; nextCursor: string | null } = await user.api.message.list.query({ conversationId, cursor, limit: 100 });
      pages.unshift(page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return pages.flat();
  }

  it("subscribers on either instance receive messages sent through the other, in order, exactly once", async () => {
    const { servers } = await cluster();
    const [a, b] = servers as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(b);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const onA = collectLive(live(a, bob));
    const onB = collectLive(live(b, alice));
    await waitForSubscribers(a, 1);
    await waitForSubscribers(b, 1);
    const sent = [];
    for (let i = 0; i < 10; i += 1) {
      const sender = i % 2 === 0 ? alice : bob;
      sent.push(await sender.api.message.send.mutate({ conversationId: id, content: `m${i}`, clientMessageId: `m${i}` }));
    }
    await onA.waitFor(10);
    await onB.waitFor(10);
    await sleep(100);
    expect(onA.messages).toEqual(sent);
    expect(onB.messages).toEqual(sent);
  });

  it("two senders on two instances, 500 messages each into one group: every subscriber sees the database's order", async () => {
    const { servers } = await cluster();
    const [a, b] = servers as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(b);
    const carol = await signUpAndLogIn(a);
    const { id } = await alice.api.conversation.create.mutate({ title: "busy", memberIds: [bob.id, carol.id] });
    const watchers = [collectLive(live(a, carol)), collectLive(live(b, carol)), collectLive(live(a, alice)), collectLive(live(b, bob))];
    await waitForSubscribers(a, 2);
    await waitForSubscribers(b, 2);
    const burst = async (user: SignedIn, tag: string) => {
      for (let i = 0; i < 500; i += 1) await user.api.message.send.mutate({ conversationId: id, content: `${tag}${i}`, clientMessageId: `${tag}${i}` });
    };
    await Promise.all([burst(alice, "a"), burst(bob, "b")]);
    for (const watcher of watchers) await watcher.waitFor(1000, 30_000);
    await sleep(200);
    const order = (await allStored(carol, id)).map((m) => m.id);
    expect(order).toHaveLength(1000);
    for (const watcher of watchers) expect(watcher.ids).toEqual(order);
    // A thousand sends one after another per sender: a bound for a loaded machine, not a speed check.
  }, 90_000);

  it("the same clientMessageId sent through both instances at once stores one message and delivers it once", async () => {
    const { servers } = await cluster();
    const [a, b] = servers as [TestServer, TestServer];
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(a);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const viaB = httpClient(b, () => alice.accessToken);
    const watchers = [collectLive(live(a, bob)), collectLive(live(b, bob))];
    await waitForSubscribers(a, 1);
    await waitForSubscribers(b, 1);
    for (let round = 0; round < 10; round += 1) {
      const input = { conversationId: id, content: `twice ${round}`, clientMessageId: `same-${round}` };
      const [one, two] = await Promise.all([alice.api.message.send.mutate(input), viaB.message.send.mutate(input)]);
      expect(one).toEqual(two);
    }
    const marker = await alice.api.message.send.mutate({ conversationId: id, content: "marker", clientMessageId: "marker" });
    for (const watcher of watchers) await watcher.waitFor(11);
    await sleep(200);
    expect((await allStored(bob, id)).length).toBe(11);
    for (const watcher of watchers) {
      expect(watcher.messages.map((m) => m.content)).toEqual([...Array.from({ length: 10 }, (_, r) => `twice ${r}`), marker.content]);
    }
  });

  it.skipIf(!existsSync(bundle))("an instance killed with SIGKILL: its clients resume on the other with lastEventId and miss nothing", async () => {
    const { servers, database, channel } = await cluster(1);
    const [survivor] = servers as [TestServer];
    const doomed = await spawnInstance({ DATABASE_URL: database.url, REDIS_URL: redisUrl ?? "", REDIS_CHANNEL: channel });
    cleanups.push(async () => doomed.child.kill("SIGKILL"));
    // The load balancer prefers the doomed instance while it is alive.
    const lb = await balancer(() => [doomed.port, survivor.port]);
    cleanups.push(() => lb.close());
    const front = { url: `http://127.0.0.1:${lb.port}`, port: lb.port };

    const alice = await signUpAndLogIn(survivor);
    const bob = await signUpAndLogIn(survivor);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const bobs = collectLive(live(front, bob));
    await sleep(300);
    let sent = 0;
    const send = () => alice.api.message.send.mutate({ conversationId: id, content: `n${sent}`, clientMessageId: `n${sent++}` });
    for (let i = 0; i < 20; i += 1) await send();
    await bobs.waitFor(20);
    doomed.child.kill("SIGKILL");
    for (let i = 0; i < 30; i += 1) {
      await send();
      await sleep(10);
    }
    await bobs.waitFor(50, 15_000);
    await sleep(200);
    const stored = await allStored(bob, id);
    expect(bobs.ids).toEqual(stored.map((m) => m.id));
    expect(new Set(bobs.ids).size).toBe(50);
  });

  it("an instance whose Redis link is cut for a few seconds delivers every message afterwards", async () => {
    const redisPort = Number(new URL(redisUrl ?? "redis://127.0.0.1:6379").port || 6379);
    const redisLink: Proxy = await tcpProxy(redisPort);
    cleanups.push(() => redisLink.close());
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const a = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api });
    cleanups.push(() => a.close());
    const b = await startTestServer("postgresql", { database, redisUrl: `redis://127.0.0.1:${redisLink.port}`, redisChannel: channel, api });
    cleanups.push(() => b.close());
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(a);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const onB = collectLive(live(b, bob));
    await waitForSubscribers(b, 1);
    const first = await alice.api.message.send.mutate({ conversationId: id, content: "before", clientMessageId: "before" });
    await onB.waitFor(1);
    await redisLink.cut();
    const during = [];
    for (let i = 0; i < 5; i += 1) during.push(await alice.api.message.send.mutate({ conversationId: id, content: `during${i}`, clientMessageId: `during${i}` }));
    await sleep(2_500);
    expect(((await (await fetch(`${b.url}/healthz`)).json()) as { redis?: string }).redis).toBe("down");
    await redisLink.restore();
    const after = await alice.api.message.send.mutate({ conversationId: id, content: "after", clientMessageId: "after" });
    await onB.waitFor(7, 10_000);
    await sleep(200);
    expect(onB.messages).toEqual([first, ...during, after]);
  });

  it("an instance that cannot reach the database answers a generic error, publishes nothing, and a retry stores exactly one message", async () => {
    const pgPort = Number(new URL(postgresUrl ?? "postgresql://127.0.0.1:5432").port || 5432);
    const dbLink = await tcpProxy(pgPort);
    cleanups.push(() => dbLink.close());
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const viaProxy = new URL(database.url);
    viaProxy.port = String(dbLink.port);
    const a = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api });
    cleanups.push(() => a.close());
    const d = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api, databaseUrl: viaProxy.toString() });
    cleanups.push(() => d.close());
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(a);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const onA = collectLive(live(a, bob));
    await waitForSubscribers(a, 1);
    const viaD = httpClient(d, () => alice.accessToken);

    await dbLink.cut();
    const input = { conversationId: id, content: "retry me", clientMessageId: "retry-me" };
    const failure = await errorOf(viaD.message.send.mutate(input));
    expect(failure.data?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(failure.message).toBe("Internal server error");
    expect((await fetch(`${d.url}/healthz`)).status).toBe(503);
    await sleep(300);
    expect(onA.messages).toEqual([]);

    await dbLink.restore();
    let stored: MessageDto | null = null;
    for (let attempt = 0; attempt < 50 && !stored; attempt += 1) {
      stored = await viaD.message.send.mutate(input).catch(() => null);
      if (!stored) await sleep(100);
    }
    expect(stored?.content).toBe("retry me");
    await viaD.message.send.mutate(input);
    await onA.waitFor(1);
    await sleep(200);
    expect(onA.messages).toEqual([stored]);
    expect((await allStored(alice, id)).length).toBe(1);
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
  });

  it("membership follows each event on every instance: removed on one, a member's streams on the other stop at once; added, they start", async () => {
    const { servers } = await cluster();
    const [a, b] = servers as [TestServer, TestServer];
    const [alice, bob, carol] = [await signUpAndLogIn(a), await signUpAndLogIn(b), await signUpAndLogIn(a)];
    const group = await alice.api.conversation.create.mutate({ title: "Two instances", memberIds: [bob.id] });
    // bob and carol listen on b; alice changes membership and sends through a.
    const bobs = collectSync(live(b, bob));
    const carols = collectSync(live(b, carol));
    await waitForSubscribers(b, 2);
    const send = (content: string) => alice.api.message.send.mutate({ conversationId: group.id, content, clientMessageId: content });
    await send("one");
    await alice.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [carol.id] });
    await send("two");
    await alice.api.conversation.removeMember.mutate({ conversationId: group.id, userId: bob.id });
    await send("three");
    await carols.waitFor(4, 10_000);
    await bobs.waitFor(4, 10_000);
    await sleep(300);
    const types = (r: typeof bobs) => r.stored.map((e) => (e.event.type === "message.created" ? e.event.message.content : e.event.type));
    expect(types(bobs)).toEqual(["one", "conversation.updated", "two", "conversation.removed"]);
    expect(types(carols)).toEqual(["conversation.updated", "two", "conversation.updated", "three"]);
    // The same events carry the same ids for everyone.
    const ids = (r: typeof bobs) => r.stored.map((e) => e.id);
    expect(ids(carols).slice(0, 3)).toEqual(ids(bobs).slice(1, 4));
    // On b, bob is refused at once, though the change was made on a.
    expect((await errorOf(httpClient(b, () => bob.accessToken).message.send.mutate({ conversationId: group.id, content: "x", clientMessageId: "x" }))).data?.code).toBe("FORBIDDEN");
  });

  it.skipIf(!existsSync(bundle))("an instance killed with SIGKILL: sync.events resumes on the other from the last id, membership changes included", async () => {
    const { servers, database, channel } = await cluster(1);
    const [survivor] = servers as [TestServer];
    const doomed = await spawnInstance({ DATABASE_URL: database.url, REDIS_URL: redisUrl ?? "", REDIS_CHANNEL: channel });
    cleanups.push(async () => doomed.child.kill("SIGKILL"));
    const lb = await balancer(() => [doomed.port, survivor.port]);
    cleanups.push(() => lb.close());
    const front = { url: `http://127.0.0.1:${lb.port}`, port: lb.port };
    const [alice, bob, carol] = [await signUpAndLogIn(survivor), await signUpAndLogIn(survivor), await signUpAndLogIn(survivor)];
    const group = await alice.api.conversation.create.mutate({ title: "Killed", memberIds: [bob.id] });
    const bobs = collectSync(live(front, bob));
    await sleep(300);
    let n = 0;
    const send = () => alice.api.message.send.mutate({ conversationId: group.id, content: `n${n}`, clientMessageId: `n${n++}` });
    for (let i = 0; i < 10; i += 1) await send();
    await bobs.waitFor(10, 10_000);
    doomed.child.kill("SIGKILL");
    await send();
    await alice.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [carol.id] });
    await send();
    await alice.api.conversation.removeMember.mutate({ conversationId: group.id, userId: bob.id });
    await send();
    await bobs.waitFor(14, 15_000);
    await sleep(300);
    // Exactly the stored events bob may see from his first on, in order, once: the log is the judge.
    const expected = await survivor.services.db.events.forUser(bob.id, BigInt(bobs.stored[0]?.id ?? "1") - 1n, 1_000);
    expect(expected).toHaveLength(14);
    expect(bobs.stored.map((e) => e.id)).toEqual(expected.map((e) => e.id.toString()));
    expect(bobs.stored.at(-1)?.event.type).toBe("conversation.removed");
    expect(new Set(bobs.stored.map((e) => e.id)).size).toBe(bobs.stored.length);
  });

  async function spawnInstance(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
    let output = "";
    const child = spawn(process.execPath, [bundle], {
      env: { PATH: process.env.PATH, PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_JWT_SECRET, WEB_DIST_DIR: "", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"listening"/.exec(output);
      if (match) return { child, port: Number(match[1]) };
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`instance did not start:\n${output}`);
      await sleep(25);
    }
  }
});
