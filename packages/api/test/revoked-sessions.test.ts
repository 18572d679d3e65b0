// The in-memory list of ended sessions: how long an entry counts, who is told, and what a restart
// loads back from the database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RevokedSessions } from "../src/auth/revoked-sessions.js";
import { MembershipCache } from "../src/domain/memberships.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { fakeClock, openTestDatabase, type TestDatabase } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});

afterAll(() => database.dispose());

function revokedSessions() {
  const clock = fakeClock();
  const bus = new InProcessEventBus();
  return { clock, bus, revoked: new RevokedSessions(bus, clock) };
}

describe("RevokedSessions", () => {
  it("counts a session as revoked until its access tokens have expired, then forgets it", () => {
    const { clock, revoked } = revokedSessions();
    revoked.add("s1", clock.now().getTime() + 10_000);
    expect(revoked.has("s1")).toBe(true);
    clock.advanceSeconds(10);
    expect(revoked.has("s1")).toBe(true);
    clock.advanceSeconds(0.001);
    expect(revoked.has("s1")).toBe(false);
    expect(revoked.has("s2")).toBe(false);
  });

  it("learns of revocations from the bus, and stops listening once closed", async () => {
    const { clock, bus, revoked } = revokedSessions();
    await bus.publish({ type: "session-revoked", sessionId: "s1", expiresAt: clock.now().getTime() + 60_000 });
    expect(revoked.has("s1")).toBe(true);
    revoked.close();
    await bus.publish({ type: "session-revoked", sessionId: "s2", expiresAt: clock.now().getTime() + 60_000 });
    expect(revoked.has("s2")).toBe(false);
  });

  it("tells each watcher of a session once, and no one who stopped watching", () => {
    const { clock, revoked } = revokedSessions();
    const told: string[] = [];
    revoked.watch("s1", () => told.push("first"));
    const stop = revoked.watch("s1", () => told.push("stopped"));
    revoked.watch("s2", () => told.push("other session"));
    stop();
    stop();
    revoked.add("s1", clock.now().getTime() + 1_000);
    revoked.add("s1", clock.now().getTime() + 1_000);
    expect(told).toEqual(["first"]);
  });

  it("forgets a session once its last watcher stops, so connections that come and go leave nothing behind", () => {
    const { clock, revoked } = revokedSessions();
    const stops = Array.from({ length: 50 }, (_, i) => revoked.watch(`s${i}`, () => undefined));
    const second = revoked.watch("s0", () => undefined);
    expect(revoked.watchedSessions).toBe(50);
    for (const stop of stops) stop();
    expect(revoked.watchedSessions).toBe(1);
    second();
    expect(revoked.watchedSessions).toBe(0);
    // A revoked session's watchers are let go of when they are told.
    const stopLater = revoked.watch("s1", () => undefined);
    revoked.add("s1", clock.now().getTime() + 1_000);
    expect(revoked.watchedSessions).toBe(0);
    stopLater();
    expect(revoked.watchedSessions).toBe(0);
  });

  it("keeps telling the remaining watchers after one of two stops", () => {
    const { clock, revoked } = revokedSessions();
    const told: string[] = [];
    const stopFirst = revoked.watch("s1", () => told.push("first"));
    revoked.watch("s1", () => told.push("second"));
    stopFirst();
    const stopAfter = revoked.watch("s1", () => told.push("third"));
    revoked.add("s1", clock.now().getTime() + 1_000);
    stopAfter();
    expect(told).toEqual(["second", "third"]);
  });

  it("loads at start-up the sessions revoked within one access-token lifetime", async () => {
    const { clock, revoked } = revokedSessions();
    const prisma = database.db.prisma;
    const userId = (await prisma.user.create({ data: { username: "revoker", passwordHash: "-" } })).id;
    const ttlSeconds = 1_800;
    const revokedAt = (secondsAgo: number) => new Date(clock.now().getTime() - secondsAgo * 1000);
    const session = async (ended: Date | null) => (await prisma.session.create({ data: { userId, revokedAt: ended } })).id;
    const recent = await session(revokedAt(60));
    const edge = await session(revokedAt(ttlSeconds));
    const old = await session(revokedAt(ttlSeconds + 1));
    const live = await session(null);
    await revoked.loadRecent(prisma, ttlSeconds);
    expect([revoked.has(recent), revoked.has(edge), revoked.has(old), revoked.has(live)]).toEqual([true, true, false, false]);
    clock.advanceSeconds(ttlSeconds - 60);
    expect(revoked.has(recent)).toBe(true);
    clock.advanceSeconds(1);
    expect(revoked.has(recent)).toBe(false);
  });
});

describe("MembershipCache", () => {
  it("reads a conversation's members once, then answers from memory; a missing one is null", async () => {
    const prisma = database.db.prisma;
    const [a, b] = [
      (await prisma.user.create({ data: { username: "member-a", passwordHash: "-" } })).id,
      (await prisma.user.create({ data: { username: "member-b", passwordHash: "-" } })).id,
    ];
    const conversationId = (await prisma.conversation.create({ data: { members: { create: [{ userId: a }, { userId: b }] } } })).id;
    const cache = new MembershipCache(prisma);
    expect(await cache.get("no-such-conversation")).toBeNull();
    expect([...((await cache.get(conversationId)) ?? [])].sort()).toEqual([a, b].sort());
    // Members never change after creation; the cache is trusted over a later change of the table.
    await prisma.conversationMember.deleteMany({ where: { conversationId, userId: b } });
    expect((await cache.get(conversationId))?.has(b)).toBe(true);
  });
});
