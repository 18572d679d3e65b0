// /metrics under load: real WebSocket clients send and receive, and the counters move by exactly
// what happened - counts, never timings.
import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  clientMessageId,
  collectSync,
  createTestDatabase,
  describeEachProvider,
  errorCodeOf,
  postgresUrl,
  rawSocket,
  redisUrl,
  signUpAndLogIn,
  startTestServer,
  suiteServer,
  testLimits,
  waitForSubscribers,
  wsClient,
  type SignedIn,
} from "./harness.js";
import { scrape, valueOf, type Scrape } from "./metrics-helpers.js";

const MEMBERS = 4;
const SENDS_EACH = 10;
const SENDS = MEMBERS * SENDS_EACH;
/** Each user may send exactly SENDS_EACH messages in the window: one more is refused. */
const MESSAGE_LIMIT = { max: SENDS_EACH, windowSeconds: 600 };

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** How much each sample grew from one scrape to the next. */
function growth(before: Scrape, after: Scrape) {
  return (key: string) => valueOf(after, key) - valueOf(before, key);
}

describeEachProvider("metrics under load", (provider) => {
  const server = suiteServer(provider, { api: testLimits({ messagesPerUser: MESSAGE_LIMIT }) });

  async function group(size: number): Promise<{ people: SignedIn[]; conversationId: string }> {
    const people: SignedIn[] = [];
    for (const _ of range(size)) people.push(await signUpAndLogIn(server()));
    const [owner, ...others] = people as [SignedIn, ...SignedIn[]];
    const { id } = await owner.api.conversation.create.mutate({ title: "load", memberIds: others.map((o) => o.id) });
    return { people, conversationId: id };
  }

  it("N sends over WebSockets add N messages and events, N x members deliveries each with a lag, and the gauges follow the sockets", async () => {
    const { people, conversationId } = await group(MEMBERS);
    const before = await scrape(server());
    expect(valueOf(before, "parley_ws_connections")).toBe(0);
    expect(valueOf(before, "parley_live_subscriptions")).toBe(0);

    const clients = people.map((person) => wsClient(server(), person.accessToken));
    const feeds = clients.map((client) => collectSync(client));
    await waitForSubscribers(server(), MEMBERS);
    const connected = await scrape(server());
    expect(valueOf(connected, "parley_ws_connections")).toBe(MEMBERS);
    expect(valueOf(connected, "parley_live_subscriptions")).toBe(MEMBERS);

    await Promise.all(
      clients.flatMap((client) => range(SENDS_EACH).map((i) => client.client.message.send.mutate({ conversationId, content: `load ${i}`, clientMessageId: clientMessageId() }))),
    );
    await Promise.all(feeds.map((feed) => feed.waitFor(SENDS)));
    const after = await scrape(server());
    const grew = growth(before, after);

    expect(grew("parley_messages_stored_total")).toBe(SENDS);
    expect(grew("parley_events_committed_total")).toBe(SENDS);
    const received = feeds.reduce((sum, feed) => sum + feed.stored.length, 0);
    expect(received).toBe(SENDS * MEMBERS);
    expect(grew("parley_deliveries_total")).toBe(SENDS * MEMBERS);
    // One lag per delivery, every one of them within some bucket's bound or +Inf.
    expect(grew("parley_delivery_lag_seconds_count")).toBe(SENDS * MEMBERS);
    expect(grew('parley_delivery_lag_seconds_bucket{le="+Inf"}')).toBe(SENDS * MEMBERS);
    expect(grew("parley_send_duration_seconds_count")).toBe(SENDS);
    // The sends were group-committed: the batches hold every send, one store call each.
    expect(grew('parley_writer_batch_size_sum{writer="messages"}')).toBe(SENDS);
    const batches = grew('parley_writer_batch_size_count{writer="messages"}');
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(SENDS);
    expect(grew('parley_db_operation_seconds_count{operation="messages.insert"}')).toBe(batches);
    expect(valueOf(after, "parley_rate_limited_total{kind=\"messages-user\"}")).toBe(valueOf(before, "parley_rate_limited_total{kind=\"messages-user\"}"));

    for (const feed of feeds) feed.unsubscribe();
    await Promise.all(clients.map((client) => client.close()));
    await vi.waitFor(
      async () => {
        const closed = await scrape(server());
        expect(valueOf(closed, "parley_ws_connections")).toBe(0);
        expect(valueOf(closed, "parley_live_subscriptions")).toBe(0);
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it("a read pointer and a reaction go through their writers' batches, one event each", async () => {
    const { people, conversationId } = await group(2);
    const [alice, bob] = people as [SignedIn, SignedIn];
    const before = await scrape(server());
    const message = await alice.api.message.send.mutate({ conversationId, content: "read me", clientMessageId: clientMessageId() });
    await bob.api.conversation.markRead.mutate({ conversationId, messageId: message.id });
    await bob.api.message.react.mutate({ messageId: message.id, emoji: "👍", on: true });
    const grew = growth(before, await scrape(server()));
    expect(grew('parley_writer_batch_size_sum{writer="reads"}')).toBe(1);
    expect(grew('parley_writer_batch_size_sum{writer="reactions"}')).toBe(1);
    expect(grew('parley_db_operation_seconds_count{operation="messages.markRead"}')).toBe(1);
    expect(grew('parley_db_operation_seconds_count{operation="messages.react"}')).toBe(1);
    expect(grew("parley_events_committed_total")).toBe(3);
  });

  it("a send over the limit adds one to the messages-user refusals and stores nothing", async () => {
    const { people, conversationId } = await group(2);
    const sender = people[0] as SignedIn;
    for (const i of range(MESSAGE_LIMIT.max)) await sender.api.message.send.mutate({ conversationId, content: `within ${i}`, clientMessageId: clientMessageId() });
    const before = await scrape(server());
    expect(await errorCodeOf(sender.api.message.send.mutate({ conversationId, content: "one too many", clientMessageId: clientMessageId() }))).toBe("TOO_MANY_REQUESTS");
    const grew = growth(before, await scrape(server()));
    expect(grew('parley_rate_limited_total{kind="messages-user"}')).toBe(1);
    expect(grew("parley_messages_stored_total")).toBe(0);
    expect(grew("parley_send_duration_seconds_count")).toBe(0);
  });

  it("a WebSocket over its frame rate adds one to the ws-frames refusals", async () => {
    const before = await scrape(server());
    const socket = await rawSocket(server());
    // A burst beyond the default 60 frames: the connection is closed for it.
    for (const i of range(70)) socket.send({ id: i, method: "query", params: { path: "auth.me", input: null } });
    expect((await socket.closed).code).toBe(1008);
    const grew = growth(before, await scrape(server()));
    expect(grew('parley_rate_limited_total{kind="ws-frames"}')).toBe(1);
  });
});

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
const reason = missing.length > 0 ? ` (skipped: ${missing.join(" and ")} not set)` : "";

describe("the admin page's health", () => {
  it("shows an admin this instance's numbers, the same as /metrics, and refuses everyone else", async () => {
    const server = await startTestServer("sqlite", { api: testLimits() });
    try {
      // The first account is the deployment's admin.
      const admin = await signUpAndLogIn(server);
      const member = await signUpAndLogIn(server);
      const { id: conversationId } = await admin.api.conversation.create.mutate({ memberIds: [member.id] });
      const clients = [admin, member].map((person) => wsClient(server, person.accessToken));
      const feeds = clients.map((client) => collectSync(client));
      await waitForSubscribers(server, 2);
      for (const i of range(3)) await member.api.message.send.mutate({ conversationId, content: `health ${i}`, clientMessageId: clientMessageId() });
      await Promise.all(feeds.map((feed) => feed.waitFor(3)));
      const health = await admin.api.admin.health.query();
      const scraped = await scrape(server);
      expect(health).toMatchObject({
        connections: valueOf(scraped, "parley_ws_connections"),
        subscriptions: valueOf(scraped, "parley_live_subscriptions"),
        redis: null,
        totals: { messages: valueOf(scraped, "parley_messages_stored_total"), deliveries: valueOf(scraped, "parley_deliveries_total") },
      });
      expect(health).toMatchObject({ connections: 2, subscriptions: 2, totals: { messages: 3, deliveries: 6 } });
      expect(await errorCodeOf(member.api.admin.health.query())).toBe("FORBIDDEN");
      for (const feed of feeds) feed.unsubscribe();
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      await server.close();
      await server.database.drop();
    }
  });

  it("is null when metrics are off", async () => {
    const server = await startTestServer("sqlite", { api: testLimits(), metrics: { enabled: false, token: null } });
    try {
      const admin = await signUpAndLogIn(server);
      expect(await admin.api.admin.health.query()).toBeNull();
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe.skipIf(missing.length > 0)(`metrics of two instances on PostgreSQL and Redis${reason}`, () => {
  it("each instance counts what it stored and what it delivered, its lag measured from the other's commit", async () => {
    const database = await createTestDatabase("postgresql");
    const redisChannel = `parley:test:${randomUUID()}`;
    const sending = await startTestServer("postgresql", { database, redisUrl, redisChannel, api: testLimits() });
    const receiving = await startTestServer("postgresql", { database, redisUrl, redisChannel, api: testLimits() });
    try {
      const alice = await signUpAndLogIn(sending);
      const bob = await signUpAndLogIn(sending);
      const { id: conversationId } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
      const live = wsClient(receiving, bob.accessToken);
      const feed = collectSync(live);
      await waitForSubscribers(receiving, 1);
      const [sentBefore, receivedBefore] = await Promise.all([scrape(sending), scrape(receiving)]);
      for (const i of range(SENDS_EACH)) await alice.api.message.send.mutate({ conversationId, content: `across ${i}`, clientMessageId: clientMessageId() });
      await feed.waitFor(SENDS_EACH);
      const [sentAfter, receivedAfter] = await Promise.all([scrape(sending), scrape(receiving)]);
      const sent = growth(sentBefore, sentAfter);
      const received = growth(receivedBefore, receivedAfter);

      expect(sent("parley_messages_stored_total")).toBe(SENDS_EACH);
      expect(received("parley_messages_stored_total")).toBe(0);
      expect(sent("parley_deliveries_total")).toBe(0);
      expect(received("parley_deliveries_total")).toBe(SENDS_EACH);
      expect(received("parley_delivery_lag_seconds_count")).toBe(SENDS_EACH);
      expect(valueOf(receivedAfter, "parley_redis_up")).toBe(1);
      expect(valueOf(receivedAfter, "parley_ws_connections")).toBe(1);
      expect(valueOf(sentAfter, "parley_ws_connections")).toBe(0);
      await live.close();
    } finally {
      await Promise.all([sending.close(), receiving.close()]);
      await database.drop();
    }
  });
});
