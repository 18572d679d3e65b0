// Conversations as the wire shows them, without a caller: what events carry to every member
// (SharedConversation), and the pieces the caller-specific reads in conversations.ts add to.
import { messageSelect, type Database } from "@parley/db";
import type { SharedConversation } from "../live/feed.js";
import { MEMBERS_IN_LIST, NOTIFY_LEVELS, type MemberDto, type MessageDto, type NotifyLevel, type ReadStateDto, type Role } from "../schemas.js";
import { columnsOf, publicUserSelect, conversationSelect, toMessageDto, toUserDto, type ConversationRow, type PublicUserRow } from "./selects.js";
import { placeholders } from "./sql.js";

export function toShared(row: ConversationRow, members: MemberDto[], memberCount: number, lastMessage: MessageDto | null): SharedConversation {
  return { id: row.id, title: row.title, isDirect: row.isDirect, members, createdAt: row.createdAt.toISOString(), memberCount, lastMessage };
}

/** A member row's read state as the wire has it. */
export function readStateOf(row: { lastReadMessageId: bigint | number | null; unreadCount: number | bigint; mentionCount: number | bigint }): ReadStateDto {
  return {
    lastReadMessageId: row.lastReadMessageId === null ? null : row.lastReadMessageId.toString(),
    unreadCount: Number(row.unreadCount),
    mentionCount: Number(row.mentionCount),
  };
}

/** A stored notification level as the wire has it ("all" for anything else, and for no row). */
export function notifyLevelOf(stored: string | null | undefined): NotifyLevel {
  return (NOTIFY_LEVELS as readonly string[]).includes(stored ?? "") ? (stored as NotifyLevel) : "all";
}

/** The levels that are not "all", by member: what a conversation event keeps. */
export function notifyLevelsOf(members: readonly { userId: string; notify: string }[]): Record<string, NotifyLevel> {
  const levels: Record<string, NotifyLevel> = {};
  for (const m of members) {
    const level = notifyLevelOf(m.notify);
    if (level !== "all") levels[m.userId] = level;
  }
  return levels;
}

export const memberOrder = [{ joinedAt: "asc" as const }, { userId: "asc" as const }];
export const toMember = (m: { role: string; lastReadMessageId: bigint | number | null; user: PublicUserRow }): MemberDto => ({
  ...toUserDto(m.user),
  role: m.role as Role,
  lastReadMessageId: m.lastReadMessageId === null ? null : m.lastReadMessageId.toString(),
});

/** The newest message of a conversation, or null. */
export async function lastMessageOf(db: Database, conversationId: string): Promise<MessageDto | null> {
  const last = await db.prisma.message.findFirst({ where: { conversationId }, orderBy: { id: "desc" }, select: messageSelect });
  return last ? toMessageDto(last) : null;
}

/**
 * Conversations as every member sees them (no one's read state), as events carry them: at most
 * MEMBERS_IN_LIST members each, by join order, and the newest message. Gone ones are left out.
 */
export async function sharedConversations(db: Database, conversationIds: readonly string[]): Promise<Map<string, SharedConversation>> {
  const result = new Map<string, SharedConversation>();
  if (conversationIds.length === 0) return result;
  const ids = [...new Set(conversationIds)];
  const [rows, members, counts, lasts] = await Promise.all([
    db.prisma.conversation.findMany({ where: { id: { in: ids } }, select: conversationSelect }),
    firstMembersOf(db, ids),
    db.prisma.conversationMember.groupBy({ by: ["conversationId"], where: { conversationId: { in: ids } }, _count: { _all: true } }),
    Promise.all(ids.map((id) => lastMessageOf(db, id))),
  ]);
  const countOf = new Map(counts.map((c) => [c.conversationId, c._count._all]));
  const lastOf = new Map(ids.map((id, i) => [id, lasts[i] ?? null]));
  for (const row of rows) result.set(row.id, toShared(row, members.get(row.id) ?? [], countOf.get(row.id) ?? 0, lastOf.get(row.id) ?? null));
  return result;
}

type MemberRow = PublicUserRow & { conversationId: string; role: string; lastReadMessageId: bigint | number | null };

/**
 * The first `MEMBERS_IN_LIST` members (join order) of each conversation, in one statement: one
 * `LIMIT` per conversation, so each part reads only its first rows of the join-order index
 * instead of ranking every member of every conversation on the page.
 */
export async function firstMembersOf(db: Database, conversationIds: string[]): Promise<Map<string, MemberDto[]>> {
  const byConversation = new Map<string, MemberDto[]>(conversationIds.map((id) => [id, []]));
  if (conversationIds.length === 0) return byConversation;
  // A constant of ours, written into the text: SQLite's `?` markers cannot name one value twice.
  const limit = String(Math.trunc(MEMBERS_IN_LIST));
  const parts = conversationIds.map(
    (_, i) =>
      `SELECT * FROM (SELECT cm."conversationId" AS "conversationId", cm."userId" AS "userId", cm."joinedAt" AS "joinedAt", cm."role" AS "role",
          cm."lastReadMessageId" AS "lastReadMessageId"
        FROM "ConversationMember" cm WHERE cm."conversationId" = ${placeholders(db.provider, 1, i + 1)}
        ORDER BY cm."joinedAt", cm."userId" LIMIT ${limit}) AS "part${i}"`,
  );
  const rows = await db.prisma.$queryRawUnsafe<MemberRow[]>(
    `SELECT firsts."conversationId" AS "conversationId", firsts."role" AS "role", firsts."lastReadMessageId" AS "lastReadMessageId", ${columnsOf(publicUserSelect, "u")}
     FROM (${parts.join(" UNION ALL ")}) firsts JOIN "User" u ON u."id" = firsts."userId"
     ORDER BY firsts."conversationId", firsts."joinedAt", firsts."userId"`,
    ...conversationIds,
  );
  for (const { conversationId, role, lastReadMessageId, ...user } of rows) {
    byConversation.get(conversationId)?.push(toMember({ role, lastReadMessageId, user }));
  }
  return byConversation;
}

