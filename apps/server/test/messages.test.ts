import { afterAll, beforeAll, expect, it } from "vitest";
import {
  clientMessageId,
  describeEachProvider,
  errorCodeOf,
  signUpAndLogIn,
  startTestServer,
  type SignedIn,
  type TestServer,
  testLimits,
} from "./harness.js";

describeEachProvider("messages", (provider) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(provider, {
      api: testLimits({ messagesPerUser: { max: 300, windowSeconds: 60 } }),
    });
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });

  async function pair(): Promise<{ alice: SignedIn; bob: SignedIn; conversationId: string }> {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    return { alice, bob, conversationId: id };
  }
  const countMessages = () => server.services.db.prisma.message.count();

  it("send stores the message and returns it in the shape of its output schema", async () => {
    const { alice, conversationId } = await pair();
    const id = clientMessageId();
    const message = await alice.api.message.send.mutate({ conversationId, content: "hello", clientMessageId: id });
    expect(message).toEqual({
      id: expect.stringMatching(/^\d+$/),
      conversationId,
      senderId: alice.id,
      content: "hello",
      clientMessageId: id,
      createdAt: expect.stringMatching(/Z$/),
      mentions: [],
      // v2 fields (issue 13): a new message is unedited, not deleted, not a reply, without reactions.
      editedAt: null,
      deletedAt: null,
      threadId: null,
      replyCount: 0,
      lastReplyAt: null,
      reactions: [],
      attachments: [],
    });
  });

  it("sending again with the same clientMessageId returns the stored message and stores nothing", async () => {
    const { alice, conversationId } = await pair();
    const id = clientMessageId();
    const first = await alice.api.message.send.mutate({ conversationId, content: "once", clientMessageId: id });
    const before = await countMessages();
    const again = await alice.api.message.send.mutate({ conversationId, content: "once", clientMessageId: id });
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => alice.api.message.send.mutate({ conversationId, content: "once", clientMessageId: id })),
    );
    expect(again).toEqual(first);
    for (const m of concurrent) expect(m).toEqual(first);
    expect(await countMessages()).toBe(before);
  });

  it("the same clientMessageId from two senders is two messages", async () => {
    const { alice, bob, conversationId } = await pair();
    const id = clientMessageId();
    const a = await alice.api.message.send.mutate({ conversationId, content: "a", clientMessageId: id });
    const b = await bob.api.message.send.mutate({ conversationId, content: "b", clientMessageId: id });
    expect(a.id).not.toBe(b.id);
  });

  it.each([
    ["empty content", { content: "" }],
    ["white space only", { content: " \n\t " }],
    ["4,001 characters", { content: "x".repeat(4001) }],
    ["an empty clientMessageId", { clientMessageId: "" }],
    ["a 65 character clientMessageId", { clientMessageId: "c".repeat(65) }],
  ])("send refuses %s with BAD_REQUEST and stores nothing", async (_, change) => {
    const { alice, conversationId } = await pair();
    const before = await countMessages();
    const input = { conversationId, content: "fine", clientMessageId: clientMessageId(), ...change };
    expect(await errorCodeOf(alice.api.message.send.mutate(input))).toBe("BAD_REQUEST");
    expect(await countMessages()).toBe(before);
  });

  it("send accepts 4,000 characters and a 64 character clientMessageId", async () => {
    const { alice, conversationId } = await pair();
    const message = await alice.api.message.send.mutate({ conversationId, content: "y".repeat(4000), clientMessageId: "c".repeat(64) });
    expect(message.content).toHaveLength(4000);
  });

  it("send and list in a conversation that does not exist are NOT_FOUND", async () => {
    const { alice } = await pair();
    expect(await errorCodeOf(alice.api.message.send.mutate({ conversationId: "nope", content: "x", clientMessageId: "c" }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(alice.api.message.list.query({ conversationId: "nope" }))).toBe("NOT_FOUND");
  });

  it("send and list by a non-member are FORBIDDEN and store nothing", async () => {
    const { conversationId } = await pair();
    const mallory = await signUpAndLogIn(server);
    const before = await countMessages();
    expect(await errorCodeOf(mallory.api.message.send.mutate({ conversationId, content: "x", clientMessageId: "c" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(mallory.api.message.list.query({ conversationId }))).toBe("FORBIDDEN");
    expect(await countMessages()).toBe(before);
  });

  it("list pages backwards: newest page first, oldest first within a page, nextCursor null at the start", async () => {
    const { alice, bob, conversationId } = await pair();
    const sent: string[] = [];
    for (let i = 0; i < 120; i += 1) {
      const sender = i % 2 === 0 ? alice : bob;
      sent.push((await sender.api.message.send.mutate({ conversationId, content: `m${i}`, clientMessageId: `m${i}` })).id);
    }
    const first = await alice.api.message.list.query({ conversationId });
    expect(first.items.map((m) => m.id)).toEqual(sent.slice(70));
    expect(first.nextCursor).not.toBeNull();
    const second = await alice.api.message.list.query({ conversationId, cursor: first.nextCursor, limit: 50 });
    expect(second.items.map((m) => m.id)).toEqual(sent.slice(20, 70));
    const third = await alice.api.message.list.query({ conversationId, cursor: second.nextCursor, limit: 50 });
    expect(third.items.map((m) => m.id)).toEqual(sent.slice(0, 20));
    expect(third.nextCursor).toBeNull();
  });

  it("list honours limit up to 100, and a page that ends exactly at the start has nextCursor null", async () => {
    const { alice, conversationId } = await pair();
    for (let i = 0; i < 4; i += 1) await alice.api.message.send.mutate({ conversationId, content: `m${i}`, clientMessageId: `m${i}` });
    const page = await alice.api.message.list.query({ conversationId, limit: 4 });
    expect(page.items.map((m) => m.content)).toEqual(["m0", "m1", "m2", "m3"]);
    expect(page.nextCursor).toBeNull();
    const small = await alice.api.message.list.query({ conversationId, limit: 3 });
    expect(small.items.map((m) => m.content)).toEqual(["m1", "m2", "m3"]);
    expect(small.nextCursor).toBe(small.items[0]?.id);
    expect((await alice.api.message.list.query({ conversationId, limit: 100 })).items).toHaveLength(4);
  });

  it("an empty conversation lists no messages and nextCursor null", async () => {
    const { alice, conversationId } = await pair();
    expect(await alice.api.message.list.query({ conversationId })).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ["limit 0", { limit: 0 }],
    ["limit 101", { limit: 101 }],
    ["a cursor that is not a message id", { cursor: "abc" }],
    ["a negative cursor", { cursor: "-5" }],
  ])("list refuses %s with BAD_REQUEST", async (_, change) => {
    const { alice, conversationId } = await pair();
    expect(await errorCodeOf(alice.api.message.list.query({ conversationId, ...change }))).toBe("BAD_REQUEST");
  });

  it("too many messages from one user are TOO_MANY_REQUESTS, and retries of stored ones still answer", async () => {
    const limited = await startTestServer(provider, {
      api: testLimits({ messagesPerUser: { max: 3, windowSeconds: 60 } }),
    });
    try {
      const [alice, bob] = await Promise.all([signUpAndLogIn(limited), signUpAndLogIn(limited)]);
      const { id: conversationId } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
      for (let i = 0; i < 3; i += 1) await alice.api.message.send.mutate({ conversationId, content: "x", clientMessageId: `r${i}` });
      expect(await errorCodeOf(alice.api.message.send.mutate({ conversationId, content: "x", clientMessageId: "r3" }))).toBe("TOO_MANY_REQUESTS");
      expect((await alice.api.message.send.mutate({ conversationId, content: "x", clientMessageId: "r0" })).clientMessageId).toBe("r0");
      expect((await bob.api.message.send.mutate({ conversationId, content: "y", clientMessageId: "b0" })).senderId).toBe(bob.id);
    } finally {
      await limited.close();
      await limited.database.drop();
    }
  });
});
