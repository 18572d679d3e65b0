// Issue 10, finding 4 (conversation spam slowed the whole server()) and finding 9 (memberIds of 998+
// was a 500): creation is rate limited per user, every conversation.list answer is bounded, and a
// group of the documented maximum size works on every database.
import { defaultApiConfig } from "@parley/api";
import { CONVERSATION_PAGE_MAX, MAX_MEMBER_IDS, MEMBERS_IN_LIST } from "@parley/api/schemas";
import { expect, it } from "vitest";
import { describeEachProvider, errorCodeOf, errorOf, signUpAndLogIn, suiteServer, testLimits } from "./harness.js";
import { seedUsers } from "./seed.js";

const { conversationsPerUser, conversationMembersPerUser } = defaultApiConfig.limits;

describeEachProvider("conversation spam", (provider) => {
  // The documented defaults: these tests are about them.
  const server = suiteServer(provider);
  const countConversations = () => server().services.db.prisma.conversation.count();

  it(`a user creating conversations fast is refused with TOO_MANY_REQUESTS after ${conversationsPerUser.max}, and the refused one is not created`, async () => {
    const spammer = await signUpAndLogIn(server());
    const victims = await seedUsers(server(), 2);
    const memberIds = victims.map((v) => v.id);
    for (let i = 0; i < conversationsPerUser.max; i += 1) await spammer.api.conversation.create.mutate({ title: `spam ${i}`, memberIds });
    const before = await countConversations();
    const refused = await errorOf(spammer.api.conversation.create.mutate({ title: "one too many", memberIds }));
    expect(refused.data?.code).toBe("TOO_MANY_REQUESTS");
    expect((refused.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(await countConversations()).toBe(before);
    // Another user is not affected.
    const other = await signUpAndLogIn(server());
    await expect(other.api.conversation.create.mutate({ title: "fine", memberIds })).resolves.toMatchObject({ memberCount: 3 });
  });

  it(`a user may add at most ${conversationMembersPerUser.max} members an hour to the conversations they create`, async () => {
    const spammer = await signUpAndLogIn(server());
    const others = await seedUsers(server(), 400);
    const memberIds = others.map((u) => u.id);
    // 400 members a group: five fit the budget, the sixth does not.
    const fits = Math.floor(conversationMembersPerUser.max / memberIds.length);
    for (let i = 0; i < fits; i += 1) await spammer.api.conversation.create.mutate({ title: `big ${i}`, memberIds });
    const before = await countConversations();
    const refused = await errorOf(spammer.api.conversation.create.mutate({ title: "too big", memberIds }));
    expect(refused.data?.code).toBe("TOO_MANY_REQUESTS");
    expect((refused.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(await countConversations()).toBe(before);
  });

  it("returning a direct conversation that exists does not count against the creation limit", async () => {
    const spammer = await signUpAndLogIn(server());
    const others = await seedUsers(server(), conversationsPerUser.max);
    const [first] = others;
    if (!first) throw new Error("no users");
    for (const other of others) await spammer.api.conversation.create.mutate({ memberIds: [other.id] });
    const again = await spammer.api.conversation.create.mutate({ memberIds: [first.id] });
    expect(again.isDirect).toBe(true);
    expect(await errorCodeOf(spammer.api.conversation.create.mutate({ title: "new", memberIds: [first.id] }))).toBe("TOO_MANY_REQUESTS");
  });

  it("a refused creation (a member that does not exist) does not count against the limits", async () => {
    const creator = await signUpAndLogIn(server());
    const others = await seedUsers(server(), 2);
    const memberIds = others.map((u) => u.id);
    for (let i = 0; i < conversationsPerUser.max + 5; i += 1) {
      expect(await errorCodeOf(creator.api.conversation.create.mutate({ title: "bad", memberIds: [...memberIds, "no-such-user"] }))).toBe("BAD_REQUEST");
    }
    await expect(creator.api.conversation.create.mutate({ title: "good", memberIds })).resolves.toMatchObject({ memberCount: 3 });
  });

  it(`a group of ${MAX_MEMBER_IDS - 1} and of ${MAX_MEMBER_IDS} other members is created, and ${MAX_MEMBER_IDS + 1} is a clean BAD_REQUEST`, async () => {
    const others = await seedUsers(server(), MAX_MEMBER_IDS + 1);
    const ids = others.map((u) => u.id);
    const [creatorA, creatorB] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const almost = await creatorA.api.conversation.create.mutate({ title: "almost", memberIds: ids.slice(0, MAX_MEMBER_IDS - 1) });
    expect(almost.memberCount).toBe(MAX_MEMBER_IDS);
    const largest = await creatorB.api.conversation.create.mutate({ title: "largest", memberIds: ids.slice(0, MAX_MEMBER_IDS) });
    expect(largest.memberCount).toBe(MAX_MEMBER_IDS + 1);
    expect(largest.members).toHaveLength(MAX_MEMBER_IDS + 1);
    expect(await server().services.db.prisma.conversationMember.count({ where: { conversationId: largest.id } })).toBe(MAX_MEMBER_IDS + 1);
    const before = await countConversations();
    const tooMany = await errorOf(creatorB.api.conversation.create.mutate({ title: "too many", memberIds: ids }));
    expect(tooMany.data?.code).toBe("BAD_REQUEST");
    expect(tooMany.message).toBe(`memberIds: memberIds may name at most ${MAX_MEMBER_IDS} users`);
    expect(await countConversations()).toBe(before);
  });

  it(`${MAX_MEMBER_IDS} memberIds of which one does not exist is BAD_REQUEST, not a database error`, async () => {
    const others = await seedUsers(server(), MAX_MEMBER_IDS - 1);
    const creator = await signUpAndLogIn(server());
    const before = await countConversations();
    const call = creator.api.conversation.create.mutate({ title: "ghost", memberIds: [...others.map((u) => u.id), "no-such-user"] });
    expect(await errorCodeOf(call)).toBe("BAD_REQUEST");
    expect(await countConversations()).toBe(before);
  });
});

describeEachProvider("conversation spam against a victim", (provider) => {
  const server = suiteServer(provider, { api: testLimits() });

  // The finding at a smaller scale: many groups of many members, each with the victim in it.
  it("spammers are refused past their limits, and the victim's conversation.list stays bounded in items and members", async () => {
    const victim = await signUpAndLogIn(server());
    const filler = await seedUsers(server(), 60);
    const memberIds = [victim.id, ...filler.map((u) => u.id)];
    const spammers = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    let created = 0;
    let refused = 0;
    for (const spammer of spammers) {
      // Each spammer tries far more than the limit allows; the loop is bounded.
      for (let i = 0; i < conversationsPerUser.max + 10; i += 1) {
        try {
          await spammer.api.conversation.create.mutate({ title: `spam ${i}`, memberIds });
          created += 1;
        } catch {
          refused += 1;
        }
      }
    }
    // 61 members a group: the member budget (2,000 an hour) stops each spammer at 32 groups, the
    // creation limit at 30 - whichever is smaller.
    const perSpammer = Math.min(conversationsPerUser.max, Math.floor(conversationMembersPerUser.max / memberIds.length));
    expect(created).toBe(spammers.length * perSpammer);
    expect(refused).toBe(spammers.length * (conversationsPerUser.max + 10 - perSpammer));

    const first = await victim.api.conversation.list.query();
    expect(first).toHaveLength(CONVERSATION_PAGE_MAX);
    for (const conversation of first) {
      expect(conversation.members.length).toBeLessThanOrEqual(MEMBERS_IN_LIST);
      expect(conversation.memberCount).toBe(memberIds.length + 1);
    }
    const last = first.at(-1);
    const rest = await victim.api.conversation.list.query({ cursor: last?.id ?? null });
    expect(first.length + rest.length).toBe(created);
    expect(new Set([...first, ...rest].map((c) => c.id)).size).toBe(created);
  });
});
