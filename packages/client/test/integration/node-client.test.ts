// The package as a script or a bot uses it, in Node, against a real server: password login, the
// live feed over a real WebSocket (the `ws` package), the outbox over HTTP - through a server
// restart and a lost answer, counting what the database stored and what the other person received.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createParleyClient, createPublicClient, readBy, signInWithPassword, type Message, type OutboxStorage, type ParleyClient } from "../../src/index";
import { fileOutboxStorage } from "../../src/node";
import { startEchoBot } from "../../examples/echo-bot";
import { startLossyProxy, type LossyProxy } from "../support/lossy-proxy";
import { startTestServer, type TestServer } from "../support/server";

const PASSWORD = "correct horse battery";

interface Person {
  userId: string;
  client: ParleyClient;
  /** Every message the live feed delivered, in order of arrival. */
  received: Message[];
}

let server: TestServer;
const cleanups: (() => Promise<void>)[] = [];
let serial = 0;

beforeAll(async () => {
  server = await startTestServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await server.dispose();
});

async function signUp(baseUrl: string): Promise<string> {
  serial += 1;
  const username = `person${serial}_${Date.now() % 100_000}`;
  await createPublicClient(baseUrl).auth.signup.mutate({ username, password: PASSWORD, fullName: username });
  return username;
}

/** Signs a new person up and connects them, as a script would (through `baseUrl`: the server, or a proxy). */
async function person(baseUrl = server.baseUrl): Promise<Person> {
  return connect(baseUrl, await signUp(baseUrl));
}

/** Logs in and connects, as a script starting up would. */
async function connect(baseUrl: string, username: string, outboxStorage?: OutboxStorage): Promise<Person & { stop(): Promise<void> }> {
  const { session, userId } = await signInWithPassword({ baseUrl, username, password: PASSWORD });
  const received: Message[] = [];
  const client = createParleyClient({
    baseUrl,
    session,
    userId,
    WebSocket,
    retryDelayMs: () => 200,
    onMessage: (m) => received.push(m),
    ...(outboxStorage ? { outboxStorage } : {}),
  });
  client.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await client.dispose();
    session.stop();
  };
  cleanups.push(stop);
  return { userId, client, received, stop };
}

/** Waits for a condition, polling; fails after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const isLive = (p: Person) => p.client.chat.getState().connection.live;
const contents = (messages: readonly Message[]) => messages.map((m) => m.content);

describe("a Node client of a real server", () => {
  it("logs in, follows the live feed across a server restart and receives what was sent meanwhile exactly once, in order", async () => {
    const alice = await person();
    const bob = await person();
    const { id: conversationId } = await alice.client.api.conversation.create.mutate({ memberIds: [bob.userId] });
    await until(() => isLive(alice) && isLive(bob), "both are live");

    alice.client.sender.send(conversationId, "before the restart");
    await until(() => bob.received.length === 1, "bob has the first message");

    await server.stop();
    await until(() => !isLive(alice) && !isLive(bob), "both saw the server go");
    // Written while the server is down: they wait in alice's outbox.
    for (const text of ["while down 1", "while down 2", "while down 3"]) alice.client.sender.send(conversationId, text);
    await server.start();

    await until(() => bob.received.length === 4, "bob has what was written while the server was down");
    alice.client.sender.send(conversationId, "after the restart");
    await until(() => bob.received.length === 5 && alice.received.length === 5, "both have the message after the restart");

    const expected = ["before the restart", "while down 1", "while down 2", "while down 3", "after the restart"];
    expect(contents(bob.received)).toEqual(expected);
    expect(contents(alice.received)).toEqual(expected);
    const ids = bob.received.map((m) => BigInt(m.id));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as bigint))).toBe(true);
    for (const message of bob.received) expect(await server.storedCount(alice.userId, message.clientMessageId)).toBe(1);
    expect(alice.client.chat.getState().outbox).toEqual([]);
  });

  describe("when the answer to a send is lost", () => {
    let proxy: LossyProxy;
    beforeAll(async () => {
      proxy = await startLossyProxy(server.port);
    });
    afterAll(async () => {
      await proxy.close();
    });

    it("sends through the outbox exactly once when the server stores a message, restarts and its answer is lost", async () => {
      const alice = await person(proxy.baseUrl);
      const bob = await person();
      const { id: conversationId } = await alice.client.api.conversation.create.mutate({ memberIds: [bob.userId] });
      await until(() => isLive(alice) && isLive(bob), "both are live");

      // The server stores the message and answers; the answer never reaches alice, and the server
      // restarts before she learns anything.
      const dropped = proxy.loseNextAnswer("message.send", async () => {
        await server.stop();
        await server.start();
      });
      alice.client.sender.send(conversationId, "exactly once");
      const clientMessageId = alice.client.chat.getState().outbox[0]?.clientMessageId;
      if (!clientMessageId) throw new Error("the message is not in the outbox");
      await dropped;

      // Confirmed by the retry, or by her own live feed replaying what she missed, whichever is first.
      await until(() => alice.client.chat.getState().outbox.length === 0, "alice's outbox is empty");
      alice.client.sender.send(conversationId, "and then another");
      await until(() => bob.received.length === 2 && alice.received.length === 2, "both have both messages");

      expect(await server.storedCount(alice.userId, clientMessageId)).toBe(1);
      expect(contents(bob.received)).toEqual(["exactly once", "and then another"]);
      expect(contents(alice.received)).toEqual(["exactly once", "and then another"]);
    });

    it("asks again with the same clientMessageId when nothing else confirms the message, and the server stores it once", async () => {
      const alice = await person(proxy.baseUrl);
      const bob = await person();
      const { id: conversationId } = await alice.client.api.conversation.create.mutate({ memberIds: [bob.userId] });
      await until(() => isLive(alice) && isLive(bob), "both are live");
      bob.client.sender.send(conversationId, "hello");
      await until(() => alice.received.length === 1, "alice's feed has a position to resume from");
      // Without her feed, only the outbox's retry can tell alice that the message was stored.
      alice.client.live.stop();
      const before = proxy.calls("message.send");

      const dropped = proxy.loseNextAnswer("message.send");
      alice.client.sender.send(conversationId, "asked twice, stored once");
      const clientMessageId = alice.client.chat.getState().outbox[0]?.clientMessageId;
      if (!clientMessageId) throw new Error("the message is not in the outbox");
      await dropped;
      await until(() => alice.client.chat.getState().outbox.length === 0, "the retry confirmed it");

      expect(proxy.calls("message.send") - before).toBe(2);
      expect(await server.storedCount(alice.userId, clientMessageId)).toBe(1);
      alice.client.live.start();
      alice.client.sender.send(conversationId, "next");
      await until(() => bob.received.length === 3 && alice.received.length === 3, "both have every message");
      expect(contents(bob.received)).toEqual(["hello", "asked twice, stored once", "next"]);
      // Her feed resumed from where it stopped and replayed what she missed, once.
      expect(contents(alice.received)).toEqual(["hello", "asked twice, stored once", "next"]);
    });
  });

  it("keeps what a script wrote while the server was down in its outbox file, and its next run sends it once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-script-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const outboxFile = join(dir, "outbox.json");
    const username = await signUp(server.baseUrl);
    const script = await connect(server.baseUrl, username, fileOutboxStorage(outboxFile));
    const bob = await person();
    const { id: conversationId } = await script.client.api.conversation.create.mutate({ memberIds: [bob.userId] });
    await until(() => isLive(script) && isLive(bob), "both are live");

    await server.stop();
    script.client.sender.send(conversationId, "written before the script stopped");
    await until(() => script.client.chat.getState().outbox[0]?.attempts === 1, "the first attempt failed");
    const clientMessageId = script.client.chat.getState().outbox[0]?.clientMessageId ?? "";
    // The script ends before the server is back.
    await script.stop();
    await until(() => !isLive(bob), "bob saw the server go");
    await server.start();
    // Bob has no event to resume after: he must be subscribed again before the next run sends.
    await until(() => isLive(bob), "bob is live again");

    const nextRun = await connect(server.baseUrl, username, fileOutboxStorage(outboxFile));
    await until(() => bob.received.length === 1 && nextRun.client.chat.getState().outbox.length === 0, "the next run sent it");
    expect(contents(bob.received)).toEqual(["written before the script stopped"]);
    expect(bob.received[0]?.clientMessageId).toBe(clientMessageId);
    expect(await server.storedCount(script.userId, clientMessageId)).toBe(1);
    // Sent and forgotten: a third run finds nothing to send.
    await until(() => readFileSync(outboxFile, "utf8") === "[]", "the file no longer holds it");
    await nextRun.stop();
    expect(await fileOutboxStorage(outboxFile).claim()).toEqual([]);
  });

  it("keeps the session when a refresh finds the server down, and refreshes once it is back", async () => {
    const username = await signUp(server.baseUrl);
    const { session } = await signInWithPassword({ baseUrl: server.baseUrl, username, password: PASSWORD });
    cleanups.push(async () => session.stop());
    const first = session.currentAccessToken();

    await server.stop();
    try {
      await expect(session.refresh(first)).rejects.toThrow(/could not be reached/);
      expect(session.getState()).toMatchObject({ status: "signedIn", accessToken: first });
    } finally {
      await server.start();
    }
    // The refresh token was not used up by the failed attempt: it still gets a new pair.
    const fresh = await session.refresh(first);
    expect(typeof fresh).toBe("string");
    expect(session.getState()).toMatchObject({ status: "signedIn", accessToken: fresh });
  });

  describe("the live state of sync.events", () => {
    const loaded = (p: Person) => p.client.chat.getState().conversationsLoaded && isLive(p);

    it("follows members, title and read state across tabs: a read in one tab clears the count in the other, and marks read only once", async () => {
      const alice = await person();
      const bob = await person();
      const carol = await person();
      const { username } = await bob.client.api.auth.me.query();
      const bobElsewhere = await connect(server.baseUrl, username);
      await until(() => [alice, bob, bobElsewhere, carol].every(loaded), "everyone is loaded and live");

      const { id: conversationId } = await alice.client.api.conversation.create.mutate({ title: "plans", memberIds: [bob.userId] });
      await until(() => bob.client.chat.conversation(conversationId) !== null, "bob has the new conversation");
      alice.client.sender.send(conversationId, `hi @${username}`);
      alice.client.sender.send(conversationId, "and more");
      await until(() => bobElsewhere.client.chat.conversation(conversationId)?.unreadCount === 2, "bob's other tab counts two");
      expect(bob.client.chat.conversation(conversationId)).toMatchObject({ unreadCount: 2, mentionCount: 1, lastReadMessageId: null });

      const lastId = bob.received.at(-1)?.id ?? "";
      await Promise.all([bob.client.chat.markRead(conversationId, lastId), bob.client.chat.markRead(conversationId, lastId)]);
      await until(() => bobElsewhere.client.chat.conversation(conversationId)?.unreadCount === 0, "the other tab saw the read");
      expect(bobElsewhere.client.chat.conversation(conversationId)).toMatchObject({ mentionCount: 0, lastReadMessageId: lastId });
      // Behind the pointer now in both tabs: nothing is asked of the server.
      await bobElsewhere.client.chat.markRead(conversationId, lastId);
      expect(await server.eventCount("read.updated", conversationId)).toBe(1);

      await alice.client.api.conversation.addMembers.mutate({ conversationId, userIds: [carol.userId] });
      await alice.client.api.conversation.rename.mutate({ conversationId, title: "new plans" });
      await until(() => bob.client.chat.conversation(conversationId)?.title === "new plans", "bob sees the new title");
      expect(bob.client.chat.conversation(conversationId)?.members.map((m) => [m.id, m.role])).toEqual([
        [alice.userId, "owner"],
        [bob.userId, "member"],
        [carol.userId, "member"],
      ]);
      await until(() => carol.client.chat.conversation(conversationId) !== null, "carol has the conversation");
      // A newcomer has read everything sent before they joined.
      expect(carol.client.chat.conversation(conversationId)).toMatchObject({ unreadCount: 0, mentionCount: 0 });

      await alice.client.api.conversation.removeMember.mutate({ conversationId, userId: bob.userId });
      await until(() => bob.client.chat.conversation(conversationId) === null && bobElsewhere.client.chat.conversation(conversationId) === null, "bob's tabs dropped it");
    });

    it("shows who is typing until their message arrives, and the presence of the people one shares a conversation with", async () => {
      const alice = await person();
      const bob = await person();
      const { id: conversationId } = await alice.client.api.conversation.create.mutate({ memberIds: [bob.userId] });
      await until(() => loaded(alice) && loaded(bob) && alice.client.chat.conversation(conversationId) !== null, "both are loaded");

      await bob.client.api.typing.set.mutate({ conversationId });
      await until(() => alice.client.chat.typingIn(conversationId).includes(bob.userId), "alice sees bob typing");
      bob.client.sender.send(conversationId, "done typing");
      await until(() => alice.received.length === 1, "alice has bob's message");
      expect(alice.client.chat.typingIn(conversationId)).toEqual([]);

      await bob.client.api.presence.set.mutate({ status: "away" });
      await until(() => alice.client.chat.getState().presence.get(bob.userId) === "away", "alice sees bob away");
      // A tab opened now reads the statuses it shows with user.presence.
      const { username } = await alice.client.api.auth.me.query();
      const aliceLater = await connect(server.baseUrl, username);
      await until(() => aliceLater.client.chat.getState().presence.get(bob.userId) === "away", "the new tab read bob's status");
    });

    it("brings the status of someone met in a new conversation, read receipts, and what the reader was taken out of", async () => {
      const alice = await person();
      const bob = await person();
      await until(() => loaded(alice) && loaded(bob), "both are loaded");
      // Nothing shared yet: alice knows nothing of bob until a conversation brings him.
      expect(alice.client.chat.getState().presence.has(bob.userId)).toBe(false);
      const { id: conversationId } = await bob.client.api.conversation.create.mutate({ title: "crew", memberIds: [alice.userId] });
      await until(() => alice.client.chat.getState().presence.get(bob.userId) === "online", "alice read bob's status");

      // The reporter's call reaches bob as a typing event.
      alice.client.typing.typed(conversationId, "hello");
      await until(() => bob.client.chat.typingIn(conversationId).includes(alice.userId), "bob sees alice typing");

      alice.client.sender.send(conversationId, "hello");
      await until(() => bob.received.length === 1, "bob has alice's message");
      const messageId = bob.received[0]!.id;
      expect(readBy(alice.client.chat.getState().receipts, conversationId, bob.userId)).toBeNull();
      await bob.client.chat.markRead(conversationId, messageId);
      await until(() => readBy(alice.client.chat.getState().receipts, conversationId, bob.userId) === messageId, "alice has bob's receipt");

      await bob.client.api.conversation.removeMember.mutate({ conversationId, userId: alice.userId });
      await until(() => alice.client.chat.getState().removed.has(conversationId), "alice knows she was removed");
      expect(alice.client.chat.conversation(conversationId)).toBeNull();
    });
  });

  it("runs the example bot: it answers a message in the same conversation", async () => {
    const botName = await signUp(server.baseUrl);
    const bot = await startEchoBot(server.baseUrl, botName, PASSWORD);
    cleanups.push(() => bot.stop());
    const carol = await person();
    const { id: conversationId } = await carol.client.api.conversation.create.mutate({ memberIds: [bot.client.userId] });
    await until(() => isLive(carol) && bot.client.chat.getState().connection.live, "carol and the bot are live");

    carol.client.sender.send(conversationId, "!echo hello there");
    await until(() => carol.received.length === 2, "carol has the bot's answer");

    expect(carol.received.map((m) => [m.senderId, m.content])).toEqual([
      [carol.userId, "!echo hello there"],
      [bot.client.userId, "hello there"],
    ]);
  });
});
