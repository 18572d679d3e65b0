// sync.events called in-process, on each provider: what a member receives of each change, resumed
// from an event id (the log read for one user), live from this instance's writer, and live from
// another instance whose events never reached this one (the hub reading the log for everyone) - the
// three must agree, with membership at each event deciding who hears of it. Also the positions a
// resume refuses, and typing between stored events. The server's tests cover the same over
// WebSockets and Redis; these are here so that mutation testing of the live code sees them.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createContext } from "../src/context.js";
import { createCaller } from "../src/root.js";
import { feedLogOf } from "../src/live/feed-log.js";
import { REPLAY_PAGE, RESYNC_REQUIRED } from "../src/live/feed-stream.js";
import { noMetrics } from "../src/metrics.js";
import type { FeedEvent } from "../src/schemas.js";
import { describeEachProvider, settlesSoon, suiteDatabase, trpcErrorOf } from "./helpers.js";
import { scenes, type Person, type World } from "./scenes.js";
import { STREAM_MODES, throughOwnFrames, type StreamMode } from "./own-frames.js";

type Stream = AsyncIterator<unknown>;

describeEachProvider("sync.events", (provider) => {
  const suite = suiteDatabase(provider);
  const { world, people, send, insert, group, latestEventId } = scenes(suite);
  const streams: Stream[] = [];
  const controllers: AbortController[] = [];
  let mode: StreamMode = "yielded";

  afterEach(async () => {
    // A stream waiting for events ends when its signal aborts (a socket closing); one suspended at a
    // yield ends only when its consumer says so, as a transport does.
    for (const controller of controllers.splice(0)) controller.abort();
    for (const stream of streams.splice(0)) await stream.return?.(undefined);
  });

  /** A caller as `user` whose streams end with the test. */
  function callerOf(w: World, user: Person) {
    const controller = new AbortController();
    controllers.push(controller);
    const ctx = createContext(w.services, w.services.tokens.issueAccess(user.id, `session-${randomUUID()}`));
    return createCaller(ctx, { signal: controller.signal });
  }

  /** The caller's stream (the call itself happens on the first next(), as over a socket). */
  function open(w: World, user: Person, lastEventId?: bigint): Stream {
    const input = lastEventId === undefined ? undefined : { lastEventId: lastEventId.toString() };
    const inner = callerOf(w, user)
      .sync.events(input)
      .then((iterable) => (mode === "own frames" ? throughOwnFrames(iterable) : iterable[Symbol.asyncIterator]()));
    const stream: Stream = {
      next: async () => (await inner).next(),
      return: async () => (await inner.catch(() => null))?.return?.() ?? { done: true, value: undefined },
    };
    streams.push(stream);
    return stream;
  }

  /** The stream's first item is asked for (so its procedure runs) and the hub holds its subscription. */
  async function started(w: World, stream: Stream, subscriptions: number): Promise<{ first: Promise<IteratorResult<unknown>> }> {
    const first = stream.next();
    await vi.waitFor(() => expect(w.services.hub.subscriptionCount).toBe(subscriptions), { timeout: 2_000 });
    return { first };
  }

  /**
   * One line per event, naming people and messages by their content: stored events carry their id
   * (checked to rise), typing and presence none.
   */
  function describeItem(value: unknown, names: Map<string, string>, ids: bigint[]): string {
    let event = value as FeedEvent;
    if (Array.isArray(value)) {
      const [id, data] = value as [string, FeedEvent];
      ids.push(BigInt(id));
      event = data;
    }
    const name = (id: string) => names.get(id) ?? id;
    switch (event.type) {
      case "message.created":
        return `created ${event.message.deletedAt ? "(deleted)" : event.message.content} by ${name(event.message.senderId)}`;
      case "message.updated":
        return `updated ${event.message.deletedAt ? "(deleted)" : event.message.content}`;
      case "conversation.updated": {
        const c = event.conversation;
        return `conversation ${c.title ?? ""} [${c.members.map((m) => name(m.id)).join(",")}] unread ${c.unreadCount} mentions ${c.mentionCount} notify ${c.notify}`;
      }
      case "conversation.removed":
        return "removed";
      case "read.updated":
        return `read by ${name(event.userId)} to ${names.get(event.lastReadMessageId ?? "") ?? event.lastReadMessageId}${event.unreadCount === undefined ? "" : ` unread ${event.unreadCount} mentions ${event.mentionCount}`}`;
      case "typing":
        return `typing ${name(event.userId)}`;
      case "presence":
        return `presence ${name(event.userId)} ${event.status}`;
    }
  }

  /**
   * The next `count` items of the stream, described (fewer when it waits more than two seconds for
   * one: the comparison then shows what was missing); ids of stored events strictly rise.
   */
  async function take(stream: Stream, count: number, names: Map<string, string>, first?: Promise<IteratorResult<unknown>>): Promise<string[]> {
    const lines: string[] = [];
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++) {
      const next = i === 0 && first ? first : stream.next();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 2_000)));
      const result = await Promise.race([next, late]);
      clearTimeout(timer);
      if (result === null || result.done) break;
      lines.push(describeItem(result.value, names, ids));
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1] as bigint);
    return lines;
  }

  /** Names for people and for messages (by id) in described events. */
  function namesOf(people: Person[], messages: { id: string; content: string }[] = []): Map<string, string> {
    return new Map([...people.map((p): [string, string] => [p.id, p.name]), ...messages.map((m): [string, string] => [m.id, m.content])]);
  }

  /**
   * The same history for every path: alice's group with bob; carol is added, hears "one", is
   * removed (missing "two"), is added again and hears "three"; bob mutes the group (only bob hears
   * of it); alice's "four" is deleted while bob and carol have not read it (each hears their own
   * recount).
   */
  async function history(w: World, [alice, bob, carol]: [Person, Person, Person], conversationId: string) {
    const as = (p: Person) => w.as(p.id).conversation;
    await as(alice).addMembers({ conversationId, userIds: [carol.id] });
    const one = await send(w, alice, conversationId, "one");
    await as(alice).removeMember({ conversationId, userId: carol.id });
    const two = await send(w, alice, conversationId, "two");
    await as(bob).addMembers({ conversationId, userIds: [carol.id] });
    const three = await send(w, bob, conversationId, "three");
    await as(bob).setNotify({ conversationId, level: "mentions" });
    const four = await send(w, alice, conversationId, "four");
    await w.as(alice.id).message.delete({ messageId: four.id });
    return [one, two, three, four];
  }

  /**
   * Read back from the log (a resume, or an instance catching up), events carry the rows as they are
   * now: the conversation with its members of now, the deleted message as its tombstone. Delivered
   * as they happen, they carry them as they were.
   */
  const asRead = (replayed: boolean, a: Person, b: Person, c: Person) => ({
    two: replayed ? `${a.name},${b.name},${c.name}` : `${a.name},${b.name}`,
    four: replayed ? "(deleted)" : "four",
  });

  const carolHears = (a: Person, b: Person, c: Person, replayed: boolean) => [
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify all`,
    `created one by ${a.name}`,
    "removed",
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify all`,
    `created three by ${b.name}`,
    `created ${asRead(replayed, a, b, c).four} by ${a.name}`,
    "updated (deleted)",
    `read by ${c.name} to two unread 1 mentions 0`,
  ];

  const bobHears = (a: Person, b: Person, c: Person, replayed: boolean) => [
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify all`,
    `created one by ${a.name}`,
    `conversation team [${asRead(replayed, a, b, c).two}] unread 1 mentions 0 notify all`,
    `created two by ${a.name}`,
    `conversation team [${a.name},${b.name},${c.name}] unread 2 mentions 0 notify all`,
    `created three by ${b.name}`,
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify mentions`,
    `created ${asRead(replayed, a, b, c).four} by ${a.name}`,
    "updated (deleted)",
    `read by ${b.name} to three unread 0 mentions 0`,
  ];

  const aliceHears = (a: Person, b: Person, c: Person, replayed: boolean) => [
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify all`,
    `created one by ${a.name}`,
    `conversation team [${asRead(replayed, a, b, c).two}] unread 0 mentions 0 notify all`,
    `created two by ${a.name}`,
    `conversation team [${a.name},${b.name},${c.name}] unread 0 mentions 0 notify all`,
    `created three by ${b.name}`,
    `created ${asRead(replayed, a, b, c).four} by ${a.name}`,
    "updated (deleted)",
  ];

  // Every test twice: the stream yielding its events (any transport), and writing its live frames itself (WebSockets).
  const tests = () => {
    it("resumed after an event id, replays what each member could see at each event, and nothing of the time between a removal and a return", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const team = await group(w, alice, [bob]);
      const mark = await latestEventId();
      const messages = await history(w, [alice, bob, carol], team);
      const names = namesOf([alice, bob, carol], messages);
      expect(await take(open(w, carol, mark), 8, names)).toEqual(carolHears(alice, bob, carol, true));
      expect(await take(open(w, bob, mark), 10, names)).toEqual(bobHears(alice, bob, carol, true));
      expect(await take(open(w, alice, mark), 8, names)).toEqual(aliceHears(alice, bob, carol, true));
    });

    it("live, delivers the same events as they happen on this instance, each once", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const team = await group(w, alice, [bob]);
      const carols = open(w, carol);
      const bobs = open(w, bob);
      const alices = open(w, alice);
      const { first: carolFirst } = await started(w, carols, 1);
      const { first: bobFirst } = await started(w, bobs, 2);
      const { first: aliceFirst } = await started(w, alices, 3);
      const messages = await history(w, [alice, bob, carol], team);
      const names = namesOf([alice, bob, carol], messages);
      expect(await take(carols, 8, names, carolFirst)).toEqual(carolHears(alice, bob, carol, false));
      expect(await take(bobs, 10, names, bobFirst)).toEqual(bobHears(alice, bob, carol, false));
      expect(await take(alices, 8, names, aliceFirst)).toEqual(aliceHears(alice, bob, carol, false));
      // Nothing more for anyone: the next thing each hears is a new message.
      const after = await send(w, alice, team, "five");
      names.set(after.id, "five");
      for (const stream of [carols, bobs, alices]) expect(await take(stream, 1, names)).toEqual([`created five by ${alice.name}`]);
    });

    it("live, delivers the same events when another instance stored them and this one reads them from the log", async () => {
      // Each delivery's lag is counted from its event's commit (read back from the log here).
      const lags: number[] = [];
      const here = await world({}, { metrics: { ...noMetrics, delivered: (lag) => lags.push(lag) } });
      // Another instance on the same database whose bus does not reach this one: only the log tells.
      const elsewhere = await world();
      const [alice, bob, carol] = await people(3);
      const team = await group(elsewhere, alice, [bob]);
      await here.services.hub.catchUp();
      const carols = open(here, carol);
      const bobs = open(here, bob);
      const alices = open(here, alice);
      const { first: carolFirst } = await started(here, carols, 1);
      const { first: bobFirst } = await started(here, bobs, 2);
      const { first: aliceFirst } = await started(here, alices, 3);
      const messages = await history(elsewhere, [alice, bob, carol], team);
      const names = namesOf([alice, bob, carol], messages);
      expect(await settlesSoon(carolFirst)).toBe(false);
      await here.services.hub.catchUp();
      expect(here.services.hub.lastDeliveredId).toBe(await latestEventId());
      expect(await take(carols, 8, names, carolFirst)).toEqual(carolHears(alice, bob, carol, true));
      expect(await take(bobs, 10, names, bobFirst)).toEqual(bobHears(alice, bob, carol, true));
      expect(await take(alices, 8, names, aliceFirst)).toEqual(aliceHears(alice, bob, carol, true));
      // One lag per event delivered, in seconds: every event had committed before the 20 ms wait.
      expect(lags).toHaveLength(8 + 10 + 8);
      for (const lag of lags) {
        expect(lag).toBeGreaterThanOrEqual(0.015);
        expect(lag).toBeLessThan(30);
      }
    });

    it("replays more than a page of events, in order, then goes on live without a repeat", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const team = await group(w, alice, [bob]);
      const mark = await latestEventId();
      // Two full pages and a part, stored directly (their events unpublished).
      const stored: { id: string; content: string }[] = [];
      for (let i = 0; i < 2 * REPLAY_PAGE + 3; i++) stored.push({ ...(await insert(team, alice, `bulk ${i}`)), content: `bulk ${i}` });
      const stream = open(w, bob, mark);
      const names = namesOf([alice, bob], stored);
      const replayed = await take(stream, stored.length, names);
      expect(replayed).toEqual(stored.map((m) => `created ${m.content} by ${alice.name}`));
      const next = stream.next();
      await vi.waitFor(() => expect(w.services.hub.subscriptionCount).toBe(1), { timeout: 2_000 });
      const live = await send(w, alice, team, "live");
      names.set(live.id, "live");
      expect(await take(stream, 1, names, next)).toEqual([`created live by ${alice.name}`]);
    });

    it("resumes from the newest event with nothing to replay, and refuses an id beyond it or below what retention removed", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const team = await group(w, alice, [bob]);
      const old = await send(w, alice, team, "old");
      await send(w, alice, team, "older than the floor");
      const latest = await latestEventId();

      const beyond = await trpcErrorOf(open(w, bob, latest + 1n).next());
      expect(beyond.code).toBe("PRECONDITION_FAILED");
      expect(beyond.message).toBe(RESYNC_REQUIRED);

      const upToDate = open(w, bob, latest);
      const { first: first } = await started(w, upToDate, 1);
      const fresh = await send(w, alice, team, "fresh");
      expect(await take(upToDate, 1, namesOf([alice, bob], [fresh]), first)).toEqual([`created fresh by ${alice.name}`]);

      // Retention removes everything but the newest event ("fresh").
      const floor = await suite.database.db.events.prune(new Date(Date.now() + 60_000));
      expect(floor).toBeGreaterThan(BigInt(old.id));
      expect(floor).toBeLessThan(BigInt(fresh.id));
      const belowFloor = await trpcErrorOf(open(w, bob, floor - 1n).next());
      expect(belowFloor.code).toBe("PRECONDITION_FAILED");
      const atFloor = open(w, bob, floor);
      const { first: next } = await started(w, atFloor, 2);
      const last = await send(w, alice, team, "last");
      expect(await take(atFloor, 2, namesOf([alice, bob], [fresh, last]), next)).toEqual([`created fresh by ${alice.name}`, `created last by ${alice.name}`]);

      // A restore (as `parley restore` marks it): every position from before it is refused - the
      // backup's newest event included - and the mark itself is where clients resume from.
      const { backupLatestId, restoredAtId } = await suite.database.db.events.markRestored();
      expect(backupLatestId).toBe(BigInt(last.id));
      for (const before of [backupLatestId, restoredAtId - 1n]) {
        const refused = await trpcErrorOf(open(w, bob, before).next());
        expect(refused.code).toBe("PRECONDITION_FAILED");
        expect(refused.message).toBe(RESYNC_REQUIRED);
      }
      const atMark = open(w, bob, restoredAtId);
      const { first: afterMark } = await started(w, atMark, 3);
      const restored = await send(w, alice, team, "after the restore");
      expect(BigInt(restored.id)).toBeGreaterThan(restoredAtId);
      expect(await take(atMark, 1, namesOf([alice, bob], [restored]), afterMark)).toEqual([`created after the restore by ${alice.name}`]);
    });

    it("carries typing between stored events, untracked, while message.live carries neither typing nor other changes", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const team = await group(w, alice, [bob]);
      const syncing = open(w, bob);
      const { first: syncFirst } = await started(w, syncing, 1);
      const v1Stream = await callerOf(w, bob).message.live();
      const v1 = mode === "own frames" ? throughOwnFrames(v1Stream) : v1Stream[Symbol.asyncIterator]();
      streams.push(v1);
      const { first: v1First } = await started(w, v1, 2);
      await w.as(alice.id).typing.set({ conversationId: team });
      await w.as(alice.id).conversation.rename({ conversationId: team, title: "renamed" });
      const message = await send(w, alice, team, "hello");
      const names = namesOf([alice, bob], [message]);
      expect(await take(syncing, 3, names, syncFirst)).toEqual([
        `typing ${alice.name}`,
        `conversation renamed [${alice.name},${bob.name}] unread 0 mentions 0 notify all`,
        `created hello by ${alice.name}`,
      ]);
      // The typing and the rename came first; message.live's first item is the message.
      expect((await v1First).value).toEqual(mode === "own frames" ? [message.id, message] : [message.id, message, expect.anything()]);
    });

    it("reads the log for an instance with each event's recipients: the members at it, narrowed to whom it concerns", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const team = await group(w, alice, [bob]);
      const mark = await latestEventId();
      const messages = await history(w, [alice, bob, carol], team);
      const names = namesOf([alice, bob, carol], messages);
      const page = await feedLogOf(suite.database.db).after(mark, 100);
      expect(page.rows).toBe(10);
      expect(page.lastId).toBe(await latestEventId());
      const who = (ids: string[]) => ids.map((id) => names.get(id)).sort().join(",");
      const [a, b, c] = [alice.name, bob.name, carol.name];
      const everyone = [a, b, c].sort().join(",");
      const pair = [a, b].sort().join(",");
      expect(page.entries.map(({ entry, recipientIds }) => `${entry.kind} -> ${who(recipientIds)}`)).toEqual([
        `conversation.updated -> ${everyone}`, // carol added
        `message.created -> ${everyone}`, // one
        `conversation.updated -> ${everyone}`, // carol removed: she hears it, and nothing after
        `message.created -> ${pair}`, // two
        `conversation.updated -> ${everyone}`, // carol added again
        `message.created -> ${everyone}`, // three
        `conversation.updated -> ${b}`, // bob's own notification level
        `message.created -> ${everyone}`, // four
        `message.updated -> ${everyone}`, // four deleted
        `read.recounted -> ${[b, c].sort().join(",")}`, // their counts recounted; alice's did not change
      ]);

      // Nothing after the newest event: an empty page that stays where it was.
      const latest = await latestEventId();
      expect(await feedLogOf(suite.database.db).after(latest, 100)).toEqual({ entries: [], lastId: latest, rows: 0 });

      // A group everyone left is gone with its messages: its rows are read and passed over, but its
      // message has nothing left to tell anyone.
      const brief = await group(w, alice, [bob], "brief");
      await send(w, alice, brief, "gone");
      await w.as(alice.id).conversation.leave({ conversationId: brief });
      await w.as(bob.id).conversation.leave({ conversationId: brief });
      const gone = await feedLogOf(suite.database.db).after(latest, 100);
      expect(gone.lastId).toBe(await latestEventId());
      expect(gone.entries.map(({ entry }) => entry.kind)).not.toContain("message.created");
      expect(gone.rows).toBe(gone.entries.length + 1);
    });
  };
  for (const streamMode of STREAM_MODES) {
    describe(streamMode, () => {
      beforeEach(() => {
        mode = streamMode;
      });
      tests();
    });
  }
});
