import { afterAll, beforeAll, expect, it, vi } from "vitest";
import {
  collectLive,
  describeEachProvider,
  signUpAndLogIn,
  sleep,
  startTestServer,
  waitForSubscribers,
  wsClient,
  type LiveClient,
  type SignedIn,
  type TestServer,
  testLimits,
} from "./harness.js";

describeEachProvider("message.live", (provider) => {
  let server: TestServer;
  const opened: LiveClient[] = [];
  beforeAll(async () => {
    server = await startTestServer(provider, {
      api: testLimits(),
    });
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await server.close();
    await server.database.drop();
  });
  const live = (user: SignedIn | undefined, target: TestServer = server) => {
    const client = wsClient(target, user?.accessToken);
    opened.push(client);
    return client;
  };
  const send = (user: SignedIn, conversationId: string, content: string) =>
    user.api.message.send.mutate({ conversationId, content, clientMessageId: `${content}-${Math.random()}` });

  it("delivers a message to every member and every tab, the sender's own tabs included", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ title: "team", memberIds: [bob.id, carol.id] });
    const before = server.services.hub.subscriptionCount;
    const tabs = [collectLive(live(alice)), collectLive(live(alice)), collectLive(live(bob)), collectLive(live(bob)), collectLive(live(carol))];
    await waitForSubscribers(server, before + tabs.length);
    const sent = await send(alice, id, "to everyone");
    for (const tab of tabs) expect(await tab.waitFor(1)).toEqual([sent]);
    for (const tab of tabs) expect(tab.ids).toEqual([sent.id]);
  });

  it("releases a subscription on the server when the client stops it or closes its socket", async () => {
    // Shares the hub with the other tests of this file: counts are relative.
    const alice = await signUpAndLogIn(server);
    const before = server.services.hub.subscriptionCount;
    const stopped = collectLive(live(alice));
    const socket = live(alice);
    collectLive(socket);
    await waitForSubscribers(server, before + 2);

    stopped.unsubscribe();
    await waitForCount(before + 1);
    await socket.close();
    await waitForCount(before);
  });

  const waitForCount = (count: number) =>
    vi.waitFor(() => expect(server.services.hub.subscriptionCount, "live subscriptions").toBe(count), { timeout: 5_000, interval: 10 });

  it("delivers nothing to a user who is not a member", async () => {
    const [alice, bob, mallory] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const before = server.services.hub.subscriptionCount;
    const outsider = collectLive(live(mallory));
    const member = collectLive(live(bob));
    await waitForSubscribers(server, before + 2);
    await send(alice, id, "private");
    await member.waitFor(1);
    await sleep(100);
    expect(outsider.messages).toEqual([]);
  });

  it("delivers messages of conversations created after the subscription started", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const before = server.services.hub.subscriptionCount;
    const bobs = collectLive(live(bob));
    await waitForSubscribers(server, before + 1);
    const { id } = await alice.api.conversation.create.mutate({ title: "new", memberIds: [bob.id] });
    const sent = await send(alice, id, "in a new conversation");
    expect(await bobs.waitFor(1)).toEqual([sent]);
  });

  it("delivers a retried send once", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const before = server.services.hub.subscriptionCount;
    const bobs = collectLive(live(bob));
    await waitForSubscribers(server, before + 1);
    const input = { conversationId: id, content: "once", clientMessageId: "retry-me" };
    await Promise.all([alice.api.message.send.mutate(input), alice.api.message.send.mutate(input)]);
    await alice.api.message.send.mutate(input);
    const marker = await send(alice, id, "marker");
    await bobs.waitFor(2);
    await sleep(50);
    expect(bobs.messages.map((m) => m.content)).toEqual(["once", marker.content]);
  });

  it("delivers one conversation's messages in the order they were stored, under concurrent senders", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ title: "race", memberIds: [bob.id, carol.id] });
    const before = server.services.hub.subscriptionCount;
    const carols = collectLive(live(carol));
    await waitForSubscribers(server, before + 1);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => send(i % 2 === 0 ? alice : bob, id, `c${i}`)),
    );
    await carols.waitFor(60);
    const stored = await alice.api.message.list.query({ conversationId: id, limit: 100 });
    expect(carols.ids).toEqual(stored.items.map((m) => m.id));
  });

  it("a subscription without a valid token fails with UNAUTHORIZED", async () => {
    const anonymous = collectLive(live(undefined));
    await vi.waitFor(() => expect(anonymous.errors.length).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });
    const error = anonymous.errors[0] as { data?: { code?: string } } | undefined;
    expect(error?.data?.code).toBe("UNAUTHORIZED");
  });

  it("resuming with lastEventId delivers every missed message in order, then live ones, without duplicates", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const direct = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const group = await alice.api.conversation.create.mutate({ title: "g", memberIds: [bob.id] });
    const before = server.services.hub.subscriptionCount;
    const firstClient = live(bob);
    const first = collectLive(firstClient);
    await waitForSubscribers(server, before + 1);
    await send(alice, direct.id, "seen-1");
    await send(alice, group.id, "seen-2");
    await first.waitFor(2);
    first.unsubscribe();
    const lastEventId = first.ids.at(-1);
    const missed = [];
    for (let i = 0; i < 5; i += 1) missed.push(await send(alice, i % 2 ? direct.id : group.id, `missed-${i}`));
    const resumed = collectLive(live(bob), lastEventId);
    await resumed.waitFor(5);
    const liveOne = await send(alice, direct.id, "after-resume");
    await resumed.waitFor(6);
    await sleep(50);
    expect(resumed.messages).toEqual([...missed, liveOne]);
    expect(resumed.ids).toEqual(resumed.messages.map((m) => m.id));
  });

  it("resuming from an id beyond the newest message (another database's) is PRECONDITION_FAILED, not a silent wait", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const newest = await send(alice, id, "newest");
    const resumed = collectLive(live(bob), (BigInt(newest.id) + 1000n).toString());
    await vi.waitFor(() => expect(resumed.errors).toHaveLength(1), { timeout: 5_000, interval: 10 });
    expect((resumed.errors[0] as { data?: { code?: string } }).data?.code).toBe("PRECONDITION_FAILED");
    expect(resumed.messages).toEqual([]);
    // The newest id itself resumes as always.
    const before = server.services.hub.subscriptionCount;
    const current = collectLive(live(bob), newest.id);
    await waitForSubscribers(server, before + 1);
    const next = await send(alice, id, "next");
    expect((await current.waitFor(1)).map((m) => m.id)).toEqual([next.id]);
  });

  it("resuming from far back pages through the whole backlog (more than one backfill page)", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const start = await send(alice, id, "start");
    const rows = Array.from({ length: 1_100 }, (_, i) => ({ conversationId: id, senderId: alice.id, content: `bulk-${i}`, clientMessageId: `bulk-${i}` }));
    // Stored directly, with their events, unannounced: how they were sent is not what this is about.
    await server.services.db.messages.insert(rows);
    const resumed = collectLive(live(bob), start.id);
    await resumed.waitFor(1_100, 20_000);
    expect(resumed.messages.map((m) => m.content)).toEqual(rows.map((r) => r.content));
  });

  it("messages sent while a resume backfills arrive exactly once, in order", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const start = await send(alice, id, "start");
    for (let i = 0; i < 30; i += 1) await send(alice, id, `before-${i}`);
    const resumed = collectLive(live(bob), start.id);
    for (let i = 0; i < 30; i += 1) await send(alice, id, `during-${i}`);
    await resumed.waitFor(60, 10_000);
    await sleep(100);
    const stored = await alice.api.message.list.query({ conversationId: id, limit: 100 });
    expect(resumed.ids).toEqual(stored.items.slice(1).map((m) => m.id));
  });

  it("after a server restart the client reconnects by itself and receives what it missed, once, and the data is still there", async () => {
    let target = await startTestServer(provider);
    const [alice, bob] = await Promise.all([signUpAndLogIn(target), signUpAndLogIn(target)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const bobs = collectLive(live(bob, target));
    await waitForSubscribers(target, 1);
    const before = await send(alice, id, "before restart");
    await bobs.waitFor(1);
    target = await target.restart();
    // Sent as soon as the server is back, before Bob's client has reconnected.
    const after = await send(alice, id, "after restart");
    await bobs.waitFor(2, 10_000);
    const more = await send(alice, id, "live again");
    await bobs.waitFor(3, 10_000);
    await sleep(100);
    expect(bobs.messages).toEqual([before, after, more]);
    expect((await bob.api.message.list.query({ conversationId: id })).items).toEqual([before, after, more]);
    await target.close();
    await target.database.drop();
  });
});
