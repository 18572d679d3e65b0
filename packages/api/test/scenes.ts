// What the tests of changes to messages and conversations share: services on a suite's database
// with a fake clock and callers by user, users with usernames of their own (for mentions), a
// member's stored read state, and the event log's rows after a point.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { messageSelect } from "@parley/db";
import { createContext, createServices, defaultApiConfig, type ApiConfig, type Services } from "../src/context.js";
import type { Metrics } from "../src/metrics.js";
import { toMessageDto } from "../src/domain/selects.js";
import { LocalFileStore } from "../src/files/file-store.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import type { MessageDto } from "../src/schemas.js";
import { fakeClock, testConfig, type FakeClock, type suiteDatabase } from "./helpers.js";

export interface World {
  services: Services;
  clock: FakeClock;
  /** A caller signed in as `userId`. */
  as(userId: string): ReturnType<typeof createCaller>;
}

export interface Person {
  id: string;
  name: string;
}

export type People<N extends number, T extends Person[] = []> = T["length"] extends N ? T : People<N, [...T, Person]>;

export interface LoggedRow {
  kind: string;
  conversationId: string;
  messageId: string | null;
  userId: string | null;
  data: unknown;
}

export function scenes(suite: ReturnType<typeof suiteDatabase>) {
  const prisma = () => suite.database.db.prisma;

  /**
   * Services on the suite's database with these limits, closed after the test; with `files`, a
   * file store in a temporary folder (removed after the test) for uploads.
   */
  async function world(limits: Partial<ApiConfig["limits"]> = {}, options: { files?: boolean; metrics?: Metrics } = {}): Promise<World> {
    const clock = fakeClock();
    const config = testConfig({ limits: { ...defaultApiConfig.limits, ...limits } });
    let fileStore: LocalFileStore | undefined;
    if (options.files) {
      const dir = mkdtempSync(join(tmpdir(), "parley-files-"));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      fileStore = new LocalFileStore(dir);
    }
    const services = await createServices({ db: suite.database.db, bus: new InProcessEventBus(), config, clock, fileStore, metrics: options.metrics });
    suite.opened.push(services);
    return { services, clock, as: (userId) => createCaller(createContext(services, services.tokens.issueAccess(userId, `session-of-${userId}`))) };
  }

  /** `count` users stored directly (how accounts are made is not what these tests are about), as a tuple. */
  async function people<N extends number>(count: N): Promise<People<N>> {
    const result: Person[] = [];
    for (let i = 0; i < count; i++) {
      const name = `u${randomUUID().slice(0, 8)}`;
      const { id } = await prisma().user.create({ data: { username: name, fullName: name, passwordHash: "unused" }, select: { id: true } });
      result.push({ id, name });
    }
    return result as People<N>;
  }

  function send(w: World, sender: Person, conversationId: string, content: string, threadId?: string): Promise<MessageDto> {
    return w.as(sender.id).message.send({ conversationId, content, clientMessageId: randomUUID(), threadId });
  }

  /** A message stored directly (with its event), past the procedures and their limits. */
  async function insert(conversationId: string, sender: Person, content: string): Promise<{ id: string }> {
    const { results } = await suite.database.db.messages.insert([{ conversationId, senderId: sender.id, content, clientMessageId: randomUUID() }]);
    const result = results[0];
    if (result?.status !== "created") throw new Error("not stored");
    return { id: result.message.id.toString() };
  }

  /** A group `owner` creates with `members`. */
  async function group(w: World, owner: Person, members: Person[], title = "team"): Promise<string> {
    return (await w.as(owner.id).conversation.create({ title, memberIds: members.map((m) => m.id) })).id;
  }

  /** A member's stored read state, as the wire writes it. */
  async function countsOf(conversationId: string, user: Person) {
    const row = await prisma().conversationMember.findUniqueOrThrow({
      where: { conversationId_userId: { conversationId, userId: user.id } },
      select: { lastReadMessageId: true, unreadCount: true, mentionCount: true },
    });
    return { lastReadMessageId: row.lastReadMessageId?.toString() ?? null, unreadCount: row.unreadCount, mentionCount: row.mentionCount };
  }

  /** A message as it is stored now, in the wire shape. */
  async function storedMessage(id: string): Promise<MessageDto> {
    return toMessageDto(await prisma().message.findUniqueOrThrow({ where: { id: BigInt(id) }, select: messageSelect }));
  }

  async function latestEventId(): Promise<bigint> {
    const row = await prisma().event.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
    return row?.id ?? 0n;
  }

  /** The log's events after `afterId`, oldest first, with their data parsed. */
  async function eventsAfter(afterId: bigint): Promise<LoggedRow[]> {
    const rows = await prisma().event.findMany({
      where: { id: { gt: afterId } },
      orderBy: { id: "asc" },
      select: { kind: true, conversationId: true, messageId: true, userId: true, data: true },
    });
    return rows.map((row) => ({
      kind: row.kind,
      conversationId: row.conversationId,
      messageId: row.messageId?.toString() ?? null,
      userId: row.userId,
      data: row.data === null ? null : (JSON.parse(row.data) as unknown),
    }));
  }

  return { world, people, send, insert, group, countsOf, storedMessage, latestEventId, eventsAfter };
}
