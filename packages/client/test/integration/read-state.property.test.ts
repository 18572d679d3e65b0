// The acceptance property of issue 12: whatever sequence of sends (with and without @mentions, of
// members and not), markReads (forwards and backwards), addMembers, removeMember and leave happens,
// through several instances, every tab of every user ends with the conversations, unread counts,
// mention counts and read pointers that the database says are true - computed here by SQL from the
// messages and membership rows, not from the server's kept counters (which are checked too).
// Issue 13 adds edits (which change mentions) and deletes (which take a message out of the counts):
// the recounts reach every tab, and every message a tab holds as changed is as the database has it
// (the tab that went offline and resumed included).
//
// It lives in @parley/client because the clients under test are the package's own, and the package
// may depend on the server (as a devDependency) while the server cannot depend on it without a
// cycle; the servers and databases come from the server's test harness (`@parley/server/testing`).
// Two instances on PostgreSQL and Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set, and
// always one instance on SQLite.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createParleyClient, createPublicClient, signInWithPassword, toApiFailure, type ParleyClient, type Session } from "../../src/index";
import { createTestDatabase, postgresUrl, redisUrl, startTestServer, testLimits, type Provider, type TestServer } from "@parley/server/testing";

const PASSWORD = "correct horse battery";
const GENEROUS = { max: 100_000, windowSeconds: 60 };
const RUNS = 15;
const MAX_OPS = 30;
/** Longest wait for every tab to agree with the database after a sequence. */
const SETTLE_MS = 15_000;
/** Codes a random operation may rightly get (not a member, gone, a direct conversation, yourself). */
const EXPECTED_REFUSALS = new Set(["FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"]);

interface Person {
  id: string;
  username: string;
  session: Session;
}

/** Conversations of one run: two groups and a direct conversation of persons 0 and 2. */
const CONVERSATIONS = 3;
const PERSONS = 4;

type Op =
  | { kind: "send"; actor: number; conv: number; mentions: number[]; tab: number }
  | { kind: "markRead"; actor: number; conv: number; pick: number; viaStore: boolean; tab: number }
  | { kind: "addMembers"; actor: number; conv: number; users: number[]; tab: number }
  | { kind: "removeMember"; actor: number; conv: number; target: number; tab: number }
  | { kind: "leave"; actor: number; conv: number; tab: number }
  | { kind: "edit"; actor: number; conv: number; pick: number; mentions: number[]; tab: number }
  | { kind: "delete"; actor: number; conv: number; pick: number; tab: number }
  | { kind: "offline" }
  | { kind: "online" };

const person = fc.integer({ min: 0, max: PERSONS - 1 });
const conv = fc.integer({ min: 0, max: CONVERSATIONS - 1 });
const tab = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("send" as const), actor: person, conv, mentions: fc.uniqueArray(person, { maxLength: 3 }), tab }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("markRead" as const), actor: person, conv, pick: fc.nat(), viaStore: fc.boolean(), tab }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("addMembers" as const), actor: person, conv, users: fc.uniqueArray(person, { minLength: 1, maxLength: 2 }), tab }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("removeMember" as const), actor: person, conv, target: person, tab }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), actor: person, conv, tab }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("edit" as const), actor: person, conv, pick: fc.nat(), mentions: fc.uniqueArray(person, { maxLength: 3 }), tab }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), actor: person, conv, pick: fc.nat(), tab }) },
  { weight: 1, arbitrary: fc.constant({ kind: "offline" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "online" as const }) },
);
/** Operations in batches: those of one batch run at the same time. */
const sequenceArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: Math.ceil(MAX_OPS / 2) }).filter((batches) => batches.flat().length <= MAX_OPS);

interface Truth {
  conversationId: string;
  lastReadMessageId: string | null;
  unreadCount: number;
  mentionCount: number;
}

const providers: { provider: Provider; instances: number; skip: string | null }[] = [
  { provider: "sqlite", instances: 1, skip: null },
  {
    provider: "postgresql",
    instances: 2,
    skip: !postgresUrl || !redisUrl ? `${[!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean).join(" and ")} not set` : null,
  },
];

for (const { provider, instances, skip } of providers) {
  const name = `read state converges on every tab to what the database says [${provider}, ${instances} instance${instances > 1 ? "s" : ""}]`;
  describe.skipIf(skip !== null)(`${name}${skip ? ` (skipped: ${skip})` : ""}`, () => {
    const servers: TestServer[] = [];
    const persons: Person[] = [];
    let dropDatabase: () => Promise<void> = async () => undefined;

    beforeAll(async () => {
      const database = await createTestDatabase(provider);
      dropDatabase = () => database.drop();
      const channel = `parley:test:${randomUUID()}`;
      const api = testLimits({ conversationsPerUser: GENEROUS, conversationMembersPerUser: GENEROUS });
      for (let i = 0; i < instances; i += 1) servers.push(await startTestServer(provider, { database, redisUrl: instances > 1 ? redisUrl : null, redisChannel: channel, api }));
      for (let i = 0; i < PERSONS; i += 1) {
        const baseUrl = servers[i % servers.length]?.url as string;
        const username = `p${i}_${randomUUID().slice(0, 8)}`;
        const user = await createPublicClient(baseUrl).auth.signup.mutate({ username, password: PASSWORD });
        const { session } = await signInWithPassword({ baseUrl, username, password: PASSWORD });
        persons.push({ id: user.id, username: user.username, session });
      }
    }, 60_000);

    afterAll(async () => {
      for (const p of persons) p.session.stop();
      for (const server of servers) await server.close();
      await dropDatabase();
    });

    /** A tab of a person, connected to one of the instances. */
    function openTab(who: Person, instance: number): ParleyClient {
      const baseUrl = servers[instance % servers.length]?.url as string;
      const client = createParleyClient({ baseUrl, session: who.session, userId: who.id, WebSocket, retryDelayMs: () => 100 });
      client.start();
      return client;
    }

    /** The truth for one person, by SQL: membership rows, and messages after the pointer counted. */
    async function truthOf(userId: string): Promise<{ computed: Truth[]; kept: Truth[] }> {
      const prisma = servers[0]?.services.db.prisma;
      if (!prisma) throw new Error("no server");
      const rows = await prisma.$queryRaw<{ cid: string; pointer: bigint | null; unread: bigint | number; mentions: bigint | number; keptUnread: number; keptMentions: number }[]>`
        SELECT cm."conversationId" AS cid, cm."lastReadMessageId" AS pointer,
          cm."unreadCount" AS "keptUnread", cm."mentionCount" AS "keptMentions",
          (SELECT COUNT(*) FROM "Message" m WHERE m."conversationId" = cm."conversationId" AND m."senderId" <> cm."userId"
             AND m."deletedAt" IS NULL AND (cm."lastReadMessageId" IS NULL OR m."id" > cm."lastReadMessageId")) AS unread,
          (SELECT COUNT(*) FROM "Message" m WHERE m."conversationId" = cm."conversationId" AND m."senderId" <> cm."userId"
             AND m."deletedAt" IS NULL AND (cm."lastReadMessageId" IS NULL OR m."id" > cm."lastReadMessageId")
             AND m."mentions" LIKE '%"' || cm."userId" || '"%') AS mentions
        FROM "ConversationMember" cm WHERE cm."userId" = ${userId}`;
      const sorted = rows.sort((a, b) => (a.cid < b.cid ? -1 : 1));
      const base = (r: (typeof rows)[number]) => ({ conversationId: r.cid, lastReadMessageId: r.pointer === null ? null : r.pointer.toString() });
      return {
        computed: sorted.map((r) => ({ ...base(r), unreadCount: Number(r.unread), mentionCount: Number(r.mentions) })),
        kept: sorted.map((r) => ({ ...base(r), unreadCount: Number(r.keptUnread), mentionCount: Number(r.keptMentions) })),
      };
    }

    /** Every message a tab holds as changed, against the database's row: content, deletion, edit time. */
    async function staleChanges(client: ParleyClient): Promise<string[]> {
      const prisma = servers[0]?.services.db.prisma;
      if (!prisma) throw new Error("no server");
      // Of conversations the tab's person is in now (one they were taken out of sends them nothing more).
      const { changed, conversations } = client.chat.getState();
      const held = [...changed.values()].filter((m) => conversations.has(m.conversationId));
      if (held.length === 0) return [];
      const rows = await prisma.message.findMany({ where: { id: { in: held.map((m) => BigInt(m.id)) } }, select: { id: true, content: true, deletedAt: true, editedAt: true } });
      const byId = new Map(rows.map((r) => [r.id.toString(), r]));
      return held
        .filter((m) => {
          const row = byId.get(m.id);
          // A message whose conversation is gone with everyone in it is gone too; nothing to compare.
          if (!row) return false;
          return row.content !== m.content || (row.deletedAt === null) !== (m.deletedAt === null) || (row.editedAt?.toISOString() ?? null) !== m.editedAt;
        })
        .map((m) => m.id);
    }

    function stateOf(client: ParleyClient): Truth[] {
      return [...client.chat.getState().conversations.values()]
        .map((c) => ({ conversationId: c.id, lastReadMessageId: c.lastReadMessageId, unreadCount: c.unreadCount, mentionCount: c.mentionCount }))
        .sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1));
    }

    async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }

    it(
      `holds for ${RUNS} random sequences of up to ${MAX_OPS} operations`,
      async () => {
        await fc.assert(
          fc.asyncProperty(sequenceArb, async (batches) => {
            // Every tab of this run, per person: one on each instance; person 0 also has one that
            // goes offline and resumes, and person 2 one opened while the operations run.
            const tabs: ParleyClient[][] = persons.map((p) => [openTab(p, 0), openTab(p, 1)]);
            const roamer = openTab(persons[0] as Person, 1);
            (tabs[0] as ParleyClient[]).push(roamer);
            const all = () => tabs.flat();
            try {
              await until(() => all().every((t) => t.chat.getState().conversationsLoaded && t.chat.getState().connection.live), "every tab is loaded and live", 10_000);
              const [p0, p1, p2] = persons as [Person, Person, Person, Person];
              const apiOf = (who: number, which: number) => (tabs[who]?.[which] as ParleyClient).api;
              const groupA = await apiOf(0, 0).conversation.create.mutate({ title: "a", memberIds: [p1.id, p2.id] });
              const groupB = await apiOf(1, 1).conversation.create.mutate({ title: "b", memberIds: [p0.id] });
              const direct = await apiOf(0, 0).conversation.create.mutate({ memberIds: [p2.id] });
              const conversationIds = [groupA.id, groupB.id, direct.id];
              /** Message ids sent per conversation, for markRead to pick from. */
              const sent: string[][] = conversationIds.map(() => []);

              const run = async (op: Op): Promise<void> => {
                if (op.kind === "offline") return roamer.live.stop();
                if (op.kind === "online") return roamer.live.start();
                const client = tabs[op.actor]?.[op.tab] as ParleyClient;
                const conversationId = conversationIds[op.conv] as string;
                try {
                  switch (op.kind) {
                    case "send": {
                      const names = op.mentions.map((i) => `@${persons[i]?.username}`).join(" ");
                      const message = await client.api.message.send.mutate({ conversationId, content: `hello ${names}`.trim(), clientMessageId: randomUUID() });
                      sent[op.conv]?.push(message.id);
                      return;
                    }
                    case "markRead": {
                      const ids = sent[op.conv] ?? [];
                      const messageId = ids[op.pick % Math.max(ids.length, 1)];
                      if (!messageId) return;
                      if (op.viaStore) await client.chat.markRead(conversationId, messageId);
                      else await client.api.conversation.markRead.mutate({ conversationId, messageId });
                      return;
                    }
                    case "addMembers":
                      await client.api.conversation.addMembers.mutate({ conversationId, userIds: op.users.map((i) => persons[i]?.id as string) });
                      return;
                    case "removeMember":
                      await client.api.conversation.removeMember.mutate({ conversationId, userId: persons[op.target]?.id as string });
                      return;
                    case "leave":
                      await client.api.conversation.leave.mutate({ conversationId });
                      return;
                    case "edit":
                    case "delete": {
                      const ids = sent[op.conv] ?? [];
                      const messageId = ids[op.pick % Math.max(ids.length, 1)];
                      if (!messageId) return;
                      if (op.kind === "delete") await client.api.message.delete.mutate({ messageId });
                      else {
                        const names = op.mentions.map((i) => `@${persons[i]?.username}`).join(" ");
                        await client.api.message.edit.mutate({ messageId, content: `edited ${randomUUID().slice(0, 6)} ${names}`.trim() });
                      }
                      return;
                    }
                  }
                } catch (error) {
                  const code = toApiFailure(error).code;
                  if (code === null || !EXPECTED_REFUSALS.has(code)) throw error;
                }
              };

              for (const [index, batch] of batches.entries()) {
                // Halfway, a tab opens while operations run: subscribe, load, apply what came meanwhile.
                if (index === Math.floor(batches.length / 2)) (tabs[2] as ParleyClient[]).push(openTab(p2, 1));
                await Promise.all(batch.map(run));
              }
              roamer.live.start();

              // Everything is stored; wait until every tab has heard of it, then compare.
              const truths = await Promise.all(persons.map((p) => truthOf(p.id)));
              const agrees = () => persons.every((_, i) => (tabs[i] ?? []).every((t) => JSON.stringify(stateOf(t)) === JSON.stringify(truths[i]?.computed)));
              await until(agrees, "every tab agrees with the database", SETTLE_MS).catch(() => undefined);
              for (const [i, truth] of truths.entries()) {
                expect(truth.kept, `the server's kept counters of person ${i}`).toEqual(truth.computed);
                for (const [t, client] of (tabs[i] ?? []).entries()) expect(stateOf(client), `person ${i}, tab ${t}`).toEqual(truth.computed);
              }
              for (const [i, personTabs] of tabs.entries()) {
                for (const [t, client] of personTabs.entries()) expect(await staleChanges(client), `messages changed as person ${i}, tab ${t} holds them`).toEqual([]);
              }
            } finally {
              await Promise.all(all().map((t) => t.dispose()));
            }
          }),
          { numRuns: RUNS, endOnFailure: true },
        );
      },
      RUNS * (SETTLE_MS + 20_000),
    );
  });
}
