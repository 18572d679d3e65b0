// Conversations as their members see them through the procedures: one direct conversation per pair
// of people however and whenever it is created, the creation limits and what a refused or failed
// creation gives back, the list in activity order, page by page, and a conversation read on an
// instance whose membership cache is behind another's changes. Real SQLite.
import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { Limiter } from "../src/auth/rate-limit.js";
import { createContext, createServices, defaultApiConfig, type ApiConfig, type Services } from "../src/context.js";
import { getConversation } from "../src/domain/conversations.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import { MEMBERS_IN_LIST } from "../src/schemas.js";
import { suiteDatabase, testConfig, trpcErrorOf } from "./helpers.js";

const suite = suiteDatabase();

async function servicesWith(limits: Partial<ApiConfig["limits"]> = {}): Promise<Services> {
  const config = testConfig({ limits: { ...defaultApiConfig.limits, ...limits } });
  const services = await createServices({ db: suite.database.db, bus: new InProcessEventBus(), config });
  suite.opened.push(services);
  return services;
}

/** A user stored directly: how the account was made is not what these tests are about. */
async function newUser(): Promise<string> {
  const username = `u${randomUUID().slice(0, 8)}`;
  const user = await suite.database.db.prisma.user.create({ data: { username, fullName: username, passwordHash: "unused" }, select: { id: true } });
  return user.id;
}

function callerOf(services: Services, userId: string) {
  return createCaller(createContext(services, services.tokens.issueAccess(userId, `session-of-${userId}`)));
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  return (await trpcErrorOf(call)).code;
}

describe("a direct conversation", () => {
  it("is made once per pair: asking again, from either side, returns it without counting", async () => {
    const services = await servicesWith({ conversationsPerUser: { max: 1, windowSeconds: 600 } });
    const [alice, bob] = [await newUser(), await newUser()];
    const created = await callerOf(services, alice).conversation.create({ memberIds: [bob] });
    expect(created).toMatchObject({ isDirect: true, title: null, memberCount: 2 });
    await expect(callerOf(services, alice).conversation.create({ memberIds: [bob, alice, bob] })).resolves.toMatchObject({ id: created.id });
    await expect(callerOf(services, bob).conversation.create({ memberIds: [alice] })).resolves.toMatchObject({ id: created.id });
  });

  it("with a title is a group of two, made anew each time", async () => {
    const services = await servicesWith();
    const [alice, bob] = [await newUser(), await newUser()];
    const first = await callerOf(services, alice).conversation.create({ title: "Plans", memberIds: [bob] });
    const second = await callerOf(services, alice).conversation.create({ title: "Plans", memberIds: [bob] });
    expect(first).toMatchObject({ isDirect: false, title: "Plans" });
    expect(second.id).not.toBe(first.id);
  });

  it("created by both people at the same moment is one conversation, and the one that lost gets its counts back", async () => {
    const services = await servicesWith({
      conversationsPerUser: { max: 1, windowSeconds: 600 },
      conversationMembersPerUser: { max: 2, windowSeconds: 600 },
    });
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    // Alice's create is held just after it found no conversation; Bob's runs to the end meanwhile.
    const members = services.conversationMembersByUser;
    let releaseAlice = () => {};
    const aliceHeld = new Promise<void>((resolve) => (releaseAlice = resolve));
    let aliceArrived = () => {};
    const aliceAtGate = new Promise<void>((resolve) => (aliceArrived = resolve));
    const gated: Limiter = {
      ...members,
      take: async (key, points) => {
        if (key === alice) {
          aliceArrived();
          await aliceHeld;
        }
        return members.take(key, points);
      },
    };
    services.conversationMembersByUser = gated;
    const alicesCreate = callerOf(services, alice).conversation.create({ memberIds: [bob] });
    await aliceAtGate;
    const bobs = await callerOf(services, bob).conversation.create({ memberIds: [alice] });
    releaseAlice();
    const alices = await alicesCreate;
    expect(alices).toEqual(bobs);
    expect(await suite.database.db.prisma.conversationMember.count({ where: { conversationId: bobs.id } })).toBe(2);
    // Alice's creation and its member were given back: she can still make one group of two others.
    await expect(callerOf(services, alice).conversation.create({ memberIds: [bob, carol] })).resolves.toMatchObject({ memberCount: 3 });
  });

  it("is stored under its two member ids sorted and joined (the schema's unique key), whoever creates it", async () => {
    const services = await servicesWith();
    const [alice, bob] = [await newUser(), await newUser()];
    const [lower, higher] = [alice, bob].sort();
    const created = await callerOf(services, higher ?? "").conversation.create({ memberIds: [lower ?? ""] });
    const stored = await suite.database.db.prisma.conversation.findUniqueOrThrow({ where: { id: created.id }, select: { directKey: true } });
    expect(stored.directKey).toBe(`${lower}:${higher}`);
  });

  it("whose storing fails passes that failure on and gives the counts back", async () => {
    const services = await servicesWith({
      conversationsPerUser: { max: 1, windowSeconds: 600 },
      conversationMembersPerUser: { max: 1, windowSeconds: 600 },
    });
    const [alice, bob] = [await newUser(), await newUser()];
    const failure = new Error("disk I/O error");
    const store = vi.spyOn(suite.database.db.events, "inEventOrder").mockRejectedValueOnce(failure);
    try {
      const error = await trpcErrorOf(callerOf(services, alice).conversation.create({ memberIds: [bob] }));
      expect(error.code).toBe("INTERNAL_SERVER_ERROR");
      expect(error.cause).toBe(failure);
    } finally {
      store.mockRestore();
    }
    await expect(callerOf(services, alice).conversation.create({ memberIds: [bob] })).resolves.toMatchObject({ isDirect: true, memberCount: 2 });
  });
});

describe("a new conversation", () => {
  it("of a group makes its creator the owner and everyone else a member, in one event by the creator", async () => {
    const services = await servicesWith();
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    const { prisma } = suite.database.db;
    const before = (await prisma.event.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;
    const created = await callerOf(services, alice).conversation.create({ title: "Team", memberIds: [bob, carol, bob] });
    expect(created).toMatchObject({ title: "Team", isDirect: false, memberCount: 3, lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all", lastMessage: null });
    const roles = Object.fromEntries(created.members.map((m) => [m.id, m.role]));
    expect(roles).toEqual({ [alice]: "owner", [bob]: "member", [carol]: "member" });
    const events = await prisma.event.findMany({ where: { id: { gt: before } }, select: { id: true, kind: true, conversationId: true, userId: true, data: true } });
    const none = { lastReadMessageId: null, unreadCount: 0, mentionCount: 0 };
    expect(events.map((e) => ({ ...e, data: JSON.parse(e.data ?? "null") as unknown }))).toEqual([
      {
        id: before + 1n,
        kind: "conversation.updated",
        conversationId: created.id,
        userId: alice,
        data: { reads: { [alice]: none, [bob]: none, [carol]: none }, added: [alice, bob, carol], removed: [] },
      },
    ]);
    // Each member's span of it starts at that event.
    const joined = await prisma.conversationMember.findMany({ where: { conversationId: created.id }, select: { joinedEventId: true } });
    expect(joined.map((m) => m.joinedEventId)).toEqual([before + 1n, before + 1n, before + 1n]);
  });

  it("direct has no owner", async () => {
    const services = await servicesWith();
    const [alice, bob] = [await newUser(), await newUser()];
    const created = await callerOf(services, alice).conversation.create({ memberIds: [bob] });
    expect(created.members.map((m) => m.role)).toEqual(["member", "member"]);
  });
});

describe("creation limits", () => {
  it("too many members for the caller's budget is BAD_REQUEST and counts nothing", async () => {
    const services = await servicesWith({
      conversationsPerUser: { max: 1, windowSeconds: 600 },
      conversationMembersPerUser: { max: 2, windowSeconds: 600 },
    });
    const [alice, bob, carol, dave] = [await newUser(), await newUser(), await newUser(), await newUser()];
    const error = await trpcErrorOf(callerOf(services, alice).conversation.create({ memberIds: [bob, carol, dave] }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toContain("at most 2 other members");
    await expect(callerOf(services, alice).conversation.create({ memberIds: [bob, carol] })).resolves.toMatchObject({ memberCount: 3 });
  });

  it("a creation refused for its members gives back its count of conversations", async () => {
    const services = await servicesWith({
      conversationsPerUser: { max: 2, windowSeconds: 600 },
      conversationMembersPerUser: { max: 2, windowSeconds: 600 },
    });
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    await callerOf(services, alice).conversation.create({ title: "one", memberIds: [bob] });
    const refused = await trpcErrorOf(callerOf(services, alice).conversation.create({ title: "two", memberIds: [bob, carol] }));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/members/);
    await expect(callerOf(services, alice).conversation.create({ title: "three", memberIds: [carol] })).resolves.toMatchObject({ memberCount: 2 });
  });

  it("past the number of conversations is TOO_MANY_REQUESTS", async () => {
    const services = await servicesWith({ conversationsPerUser: { max: 1, windowSeconds: 600 } });
    const [alice, bob] = [await newUser(), await newUser()];
    await callerOf(services, alice).conversation.create({ title: "one", memberIds: [bob] });
    const error = await trpcErrorOf(callerOf(services, alice).conversation.create({ title: "two", memberIds: [bob] }));
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/conversations/);
  });

  it("a member who does not exist creates nothing and gives the counts back", async () => {
    const services = await servicesWith({
      conversationsPerUser: { max: 1, windowSeconds: 600 },
      conversationMembersPerUser: { max: 1, windowSeconds: 600 },
    });
    const [alice, bob] = [await newUser(), await newUser()];
    const refused = await trpcErrorOf(callerOf(services, alice).conversation.create({ memberIds: ["no-such-user"] }));
    expect([refused.code, refused.message]).toEqual(["BAD_REQUEST", "memberIds names a user that does not exist"]);
    expect(await suite.database.db.prisma.conversationMember.count({ where: { userId: alice } })).toBe(0);
    await expect(callerOf(services, alice).conversation.create({ memberIds: [bob] })).resolves.toMatchObject({ memberCount: 2 });
  });

  it("naming no one but the caller is BAD_REQUEST", async () => {
    const services = await servicesWith();
    const alice = await newUser();
    const refused = await trpcErrorOf(callerOf(services, alice).conversation.create({ memberIds: [alice, alice] }));
    expect([refused.code, refused.message]).toEqual(["BAD_REQUEST", "memberIds must name at least one other user"]);
  });

  it("that is gone before it is read back still counts: it was created", async () => {
    const here = await servicesWith({ conversationsPerUser: { max: 1, windowSeconds: 600 } });
    const elsewhere = await servicesWith();
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    // Between storing it and reading it back, both members leave it on another instance.
    const publish = here.bus.publish.bind(here.bus);
    vi.spyOn(here.bus, "publish").mockImplementationOnce(async (event) => {
      if (event.type === "entry" && "conversationId" in event.entry) {
        const conversationId = event.entry.conversationId;
        await callerOf(elsewhere, alice).conversation.leave({ conversationId });
        await callerOf(elsewhere, bob).conversation.leave({ conversationId });
      }
      return publish(event);
    });
    const error = await trpcErrorOf(callerOf(here, alice).conversation.create({ title: "brief", memberIds: [bob] }));
    expect([error.code, error.message]).toEqual(["NOT_FOUND", "No such conversation"]);
    expect(await codeOf(callerOf(here, alice).conversation.create({ title: "again", memberIds: [carol] }))).toBe("TOO_MANY_REQUESTS");
  });
});

describe("a conversation read where the membership cache is behind another instance", () => {
  it("that the last members left elsewhere is NOT_FOUND", async () => {
    const [here, elsewhere] = [await servicesWith(), await servicesWith()];
    const [alice, bob] = [await newUser(), await newUser()];
    const { id: conversationId } = await callerOf(here, alice).conversation.create({ title: "short-lived", memberIds: [bob] });
    // This instance now knows both as members, and hears nothing of what the other one changes.
    await callerOf(here, alice).conversation.get({ conversationId });
    await callerOf(elsewhere, alice).conversation.leave({ conversationId });
    await callerOf(elsewhere, bob).conversation.leave({ conversationId });
    const error = await trpcErrorOf(callerOf(here, alice).conversation.get({ conversationId }));
    expect([error.code, error.message]).toEqual(["NOT_FOUND", "No such conversation"]);
  });

  it("by someone removed elsewhere shows the members there are now, and no read state or level of theirs", async () => {
    const [here, elsewhere] = [await servicesWith(), await servicesWith()];
    const [alice, bob] = [await newUser(), await newUser()];
    const { id: conversationId } = await callerOf(here, alice).conversation.create({ title: "team", memberIds: [bob] });
    const message = await callerOf(here, alice).message.send({ conversationId, content: "hello", clientMessageId: randomUUID() });
    await callerOf(here, bob).conversation.markRead({ conversationId, messageId: message.id });
    await callerOf(here, bob).conversation.setNotify({ conversationId, level: "none" });
    await callerOf(elsewhere, alice).conversation.removeMember({ conversationId, userId: bob });
    const seen = await getConversation(here, bob, conversationId);
    expect(seen.members.map((m) => m.id)).toEqual([alice]);
    expect(seen).toMatchObject({ memberCount: 1, lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all", lastMessage: message });
  });
});

describe("conversation.get", () => {
  it("gives each member's public fields and role only, never more of their account", async () => {
    const services = await servicesWith();
    const [alice, bob] = [await newUser(), await newUser()];
    const { id: conversationId } = await callerOf(services, alice).conversation.create({ title: "team", memberIds: [bob] });
    const users = await suite.database.db.prisma.user.findMany({ where: { id: { in: [alice, bob] } }, select: { id: true, username: true, fullName: true } });
    const publicOf = (id: string) => users.find((u) => u.id === id);
    // The domain function itself, not only what the procedure's output schema lets through.
    const seen = await getConversation(services, alice, conversationId);
    expect(seen.members).toEqual([
      { ...publicOf(alice), role: "owner", lastReadMessageId: null },
      { ...publicOf(bob), role: "member", lastReadMessageId: null },
    ]);
  });
});

describe("conversation.list", () => {
  /** Sets when a conversation was made, and adds a message at `messageAt` if given. */
  async function conversationAt(services: Services, owner: string, createdAt: number, messageAt?: number): Promise<string> {
    const { id } = await callerOf(services, owner).conversation.create({ title: `at ${createdAt}`, memberIds: [await newUser()] });
    await suite.database.db.prisma.conversation.update({ where: { id }, data: { createdAt: new Date(createdAt) } });
    if (messageAt !== undefined) {
      const message = await callerOf(services, owner).message.send({ conversationId: id, content: "hi", clientMessageId: randomUUID() });
      await suite.database.db.prisma.message.update({ where: { id: BigInt(message.id) }, data: { createdAt: new Date(messageAt) } });
    }
    return id;
  }

  it("puts the most recent activity first: the last message, else the creation", async () => {
    const services = await servicesWith();
    const owner = await newUser();
    const t = Date.UTC(2030, 0, 1);
    const quietOld = await conversationAt(services, owner, t);
    const busyOld = await conversationAt(services, owner, t + 1_000, t + 9_000);
    const quietNew = await conversationAt(services, owner, t + 5_000);
    const talkedEarly = await conversationAt(services, owner, t + 2_000, t + 3_000);
    const list = await callerOf(services, owner).conversation.list();
    expect(list.map((c) => c.id)).toEqual([busyOld, quietNew, talkedEarly, quietOld]);
  });

  it("pages by cursor: each conversation once, in order, then an empty page", async () => {
    const services = await servicesWith();
    const owner = await newUser();
    const t = Date.UTC(2030, 0, 1);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.unshift(await conversationAt(services, owner, t + i * 1_000));
    const caller = callerOf(services, owner);
    const first = await caller.conversation.list({ limit: 2 });
    const second = await caller.conversation.list({ limit: 2, cursor: first.at(-1)?.id });
    const third = await caller.conversation.list({ limit: 2, cursor: second.at(-1)?.id });
    expect([...first, ...second, ...third].map((c) => c.id)).toEqual(ids);
    expect(await caller.conversation.list({ limit: 2, cursor: third.at(-1)?.id })).toEqual([]);
  });

  it("pages one at a time from the first conversation", async () => {
    const services = await servicesWith();
    const owner = await newUser();
    const t = Date.UTC(2030, 0, 1);
    const older = await conversationAt(services, owner, t);
    const newer = await conversationAt(services, owner, t + 1_000);
    const caller = callerOf(services, owner);
    const first = await caller.conversation.list({ limit: 1 });
    expect(first.map((c) => c.id)).toEqual([newer]);
    expect((await caller.conversation.list({ limit: 1, cursor: newer })).map((c) => c.id)).toEqual([older]);
  });

  it("orders conversations of the same moment by id, last first, so that pages neither repeat nor skip one", async () => {
    const services = await servicesWith();
    const owner = await newUser();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await conversationAt(services, owner, Date.UTC(2030, 0, 1)));
    const expected = [...ids].sort().reverse();
    const caller = callerOf(services, owner);
    expect((await caller.conversation.list()).map((c) => c.id)).toEqual(expected);
    const first = await caller.conversation.list({ limit: 2 });
    const second = await caller.conversation.list({ limit: 2, cursor: first.at(-1)?.id });
    expect([...first, ...second].map((c) => c.id)).toEqual(expected);
  });

  it("refuses a cursor that is not one of the caller's conversations", async () => {
    const services = await servicesWith();
    const [owner, stranger] = [await newUser(), await newUser()];
    const theirs = await conversationAt(services, stranger, Date.UTC(2030, 0, 1));
    await conversationAt(services, owner, Date.UTC(2030, 0, 1));
    const refused = await trpcErrorOf(callerOf(services, owner).conversation.list({ cursor: theirs }));
    expect([refused.code, refused.message]).toEqual(["BAD_REQUEST", "cursor is not one of your conversations"]);
  });

  it("gives each item its first members in join order, its full member count and its last message", async () => {
    const services = await servicesWith();
    const owner = await newUser();
    const others = [];
    for (let i = 0; i < MEMBERS_IN_LIST + 2; i++) others.push(await newUser());
    const group = await callerOf(services, owner).conversation.create({ title: "big", memberIds: others });
    const direct = await callerOf(services, owner).conversation.create({ memberIds: [others[0] ?? ""] });
    await callerOf(services, owner).message.send({ conversationId: group.id, content: "first", clientMessageId: randomUUID() });
    const last = await callerOf(services, owner).message.send({ conversationId: group.id, content: "second", clientMessageId: randomUUID() });
    const list = await callerOf(services, owner).conversation.list();
    const listedGroup = list.find((c) => c.id === group.id);
    expect(listedGroup?.memberCount).toBe(MEMBERS_IN_LIST + 3);
    expect(listedGroup?.members.map((m) => m.id)).toEqual(group.members.slice(0, MEMBERS_IN_LIST).map((m) => m.id));
    expect(listedGroup?.lastMessage).toEqual(last);
    expect(listedGroup?.isDirect).toBe(false);
    expect(list.find((c) => c.id === direct.id)).toMatchObject({ isDirect: true, memberCount: 2, lastMessage: null });
    await expect(callerOf(services, owner).conversation.get({ conversationId: group.id })).resolves.toMatchObject({
      memberCount: MEMBERS_IN_LIST + 3,
      lastMessage: last,
    });
  });

  it("is empty for a user in no conversation", async () => {
    const services = await servicesWith();
    await expect(callerOf(services, await newUser()).conversation.list()).resolves.toEqual([]);
  });
});
