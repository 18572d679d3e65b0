import { isUniqueViolation, messageSelect } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { ConversationEventData } from "../live/feed.js";
import type { ConversationDto } from "../schemas.js";
import { firstMembersOf, lastMessageOf, memberOrder, notifyLevelOf, readStateOf, toMember, toShared } from "./conversation-views.js";
import { conversationSelect, publicUserSelect, toMessageDto } from "./selects.js";
import { chunked } from "./sql.js";
import { commitInOrder } from "./ordered-changes.js";

export { readStateOf, sharedConversations } from "./conversation-views.js";

/** Rows per statement where a list of ids becomes bound parameters (SQLite allows 999 in older builds). */
const IDS_PER_STATEMENT = 500;

/** The key that makes a direct conversation between two people unique, whoever creates it. */
export function directKeyOf(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** One conversation with every member (join order), its newest message, and the caller's read state. */
async function findConversation(services: Services, callerId: string, conversationId: string): Promise<ConversationDto | null> {
  const { prisma } = services.db;
  const [row, members, last] = await Promise.all([
    prisma.conversation.findUnique({ where: { id: conversationId }, select: conversationSelect }),
    prisma.conversationMember.findMany({
      where: { conversationId },
      orderBy: memberOrder,
      select: { userId: true, role: true, lastReadMessageId: true, unreadCount: true, mentionCount: true, notify: true, user: { select: publicUserSelect } },
    }),
    lastMessageOf(services.db, conversationId),
  ]);
  if (!row) return null;
  const own = members.find((m) => m.userId === callerId);
  const read = own ? readStateOf(own) : { lastReadMessageId: null, unreadCount: 0, mentionCount: 0 };
  return { ...toShared(row, members.map(toMember), members.length, last), ...read, notify: notifyLevelOf(own?.notify) };
}

/** One of the caller's conversations with every member (join order), its newest message and the caller's read state. */
export async function getConversation(services: Services, callerId: string, conversationId: string): Promise<ConversationDto> {
  const conversation = await findConversation(services, callerId, conversationId);
  if (!conversation) throw new DomainError("not_found", "No such conversation");
  return conversation;
}

/**
 * Refuses ids of users that do not exist, or are deactivated (a deactivated person joins nothing
 * new; their memberships stay, with their messages). Looked up in chunks so that no statement has
 * too many parameters.
 */
export async function requireJoinableUsers(services: Services, ids: readonly string[], field: "memberIds" | "userIds"): Promise<void> {
  let found = 0;
  let deactivated = false;
  for (const chunk of chunked(ids, IDS_PER_STATEMENT)) {
    const rows = await services.db.prisma.user.findMany({ where: { id: { in: chunk } }, select: { deactivatedAt: true } });
    found += rows.length;
    deactivated ||= rows.some((row) => row.deactivatedAt !== null);
  }
  if (found !== ids.length) throw new DomainError("invalid", `${field} names a user that does not exist`);
  if (deactivated) throw new DomainError("invalid", `${field} names a deactivated user`);
}

export async function createConversation(
  services: Services,
  callerId: string,
  input: { title?: string | undefined; memberIds: string[] },
): Promise<ConversationDto> {
  const { db, config, conversationsByUser, conversationMembersByUser } = services;
  const others = [...new Set(input.memberIds)].filter((id) => id !== callerId);
  if (others.length === 0) throw new DomainError("invalid", "memberIds must name at least one other user");

  const otherId = others[0];
  const isDirect = others.length === 1 && input.title === undefined && otherId !== undefined;
  const directKey = isDirect ? directKeyOf(callerId, otherId) : null;
  if (directKey) {
    // Returning the conversation that exists creates nothing, so it is not rate limited.
    const existing = await db.prisma.conversation.findUnique({ where: { directKey }, select: { id: true } });
    if (existing) return getConversation(services, callerId, existing.id);
  }

  const memberBudget = config.limits.conversationMembersPerUser.max;
  if (others.length > memberBudget) {
    throw new DomainError("invalid", `A conversation you create may have at most ${memberBudget} other members`);
  }
  // Counted before the database is asked anything, so a caller over the limit costs no queries.
  const wait = await conversationsByUser.take(callerId);
  if (wait > 0) throw new DomainError("rate_limited", `Too many new conversations. Try again in ${wait} seconds.`, wait);
  const membersWait = await conversationMembersByUser.take(callerId, others.length);
  if (membersWait > 0) {
    await conversationsByUser.refund(callerId);
    throw new DomainError("rate_limited", `Too many members added to new conversations. Try again in ${membersWait} seconds.`, membersWait);
  }
  let counted = true;
  /** Nothing was created after all: give the counts back. */
  const refund = async () => {
    if (!counted) return;
    counted = false;
    await Promise.all([conversationsByUser.refund(callerId), conversationMembersByUser.refund(callerId, others.length)]);
  };

  try {
    await requireJoinableUsers(services, others, "memberIds");

    const memberIds = [callerId, ...others];
    const joinedAt = services.clock.now();
    let createdId: string;
    try {
      createdId = await commitInOrder(services, async ({ tx, append, nextId }) => {
        const created = await tx.conversation.create({
          data: { title: input.title ?? null, isDirect, directKey },
          select: { id: true },
        });
        // The event that creates it is each member's first of it.
        const joinedEventId = nextId();
        for (const chunk of chunked(memberIds, IDS_PER_STATEMENT / 5)) {
          await tx.conversationMember.createMany({
            data: chunk.map((userId) => ({ conversationId: created.id, userId, joinedAt, joinedEventId, role: !isDirect && userId === callerId ? "owner" : "member" })),
          });
        }
        const data: ConversationEventData = {
          reads: Object.fromEntries(memberIds.map((id) => [id, { lastReadMessageId: null, unreadCount: 0, mentionCount: 0 }])),
          added: memberIds,
          removed: [],
        };
        await append({ kind: "conversation.updated", conversationId: created.id, userId: callerId, data: JSON.stringify(data) });
        return created.id;
      });
    } catch (error) {
      // Both people created it at the same moment: the unique direct key let one through.
      if (directKey && isUniqueViolation(error)) {
        await refund();
        const winner = await db.prisma.conversation.findUniqueOrThrow({ where: { directKey }, select: { id: true } });
        return await getConversation(services, callerId, winner.id);
      }
      throw error;
    }
    counted = false;
    return await getConversation(services, callerId, createdId);
  } catch (error) {
    await refund();
    throw error;
  }
}

interface ActivityRow {
  id: string;
  title: string | null;
  isDirect: boolean | number;
  createdAt: Date;
  lastMessageId: bigint | number | null;
  lastMessageAt: Date | null;
  lastReadMessageId: bigint | number | null;
  unreadCount: bigint | number;
  mentionCount: bigint | number;
  notify: string;
}

/**
 * The caller's conversations in activity order, cheaply: one query over the caller's memberships,
 * where each conversation's newest message is one seek on the (conversationId, id) index.
 */
async function conversationsByActivity(services: Services, userId: string): Promise<ActivityRow[]> {
  const rows = await services.db.prisma.$queryRaw<ActivityRow[]>`
    SELECT c."id" AS "id", c."title" AS "title", c."isDirect" AS "isDirect", c."createdAt" AS "createdAt",
      cm."lastReadMessageId" AS "lastReadMessageId", cm."unreadCount" AS "unreadCount", cm."mentionCount" AS "mentionCount", cm."notify" AS "notify",
      (SELECT m."id" FROM "Message" m WHERE m."conversationId" = c."id" ORDER BY m."id" DESC LIMIT 1) AS "lastMessageId",
      (SELECT m."createdAt" FROM "Message" m WHERE m."conversationId" = c."id" ORDER BY m."id" DESC LIMIT 1) AS "lastMessageAt"
    FROM "ConversationMember" cm JOIN "Conversation" c ON c."id" = cm."conversationId"
    WHERE cm."userId" = ${userId}`;
  const activity = (row: ActivityRow) => new Date(row.lastMessageAt ?? row.createdAt).getTime();
  return rows.sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * One page of the caller's conversations, most recent activity (last message, else creation)
 * first; `cursor` is the id of the last conversation of the previous page. Members and last
 * messages are loaded for the page only, and each item carries at most MEMBERS_IN_LIST members.
 */
export async function listConversations(
  services: Services,
  userId: string,
  input: { cursor?: string | null | undefined; limit: number },
): Promise<ConversationDto[]> {
  const { prisma } = services.db;
  const ordered = await conversationsByActivity(services, userId);
  let start = 0;
  if (input.cursor) {
    const index = ordered.findIndex((row) => row.id === input.cursor);
    if (index < 0) throw new DomainError("invalid", "cursor is not one of your conversations");
    start = index + 1;
  }
  const page = ordered.slice(start, start + input.limit);
  if (page.length === 0) return [];
  const ids = page.map((row) => row.id);
  const lastIds = page.flatMap((row) => (row.lastMessageId === null ? [] : [BigInt(row.lastMessageId)]));
  const [members, counts, lastMessages] = await Promise.all([
    firstMembersOf(services.db, ids),
    prisma.conversationMember.groupBy({ by: ["conversationId"], where: { conversationId: { in: ids } }, _count: { _all: true } }),
    lastIds.length === 0 ? [] : prisma.message.findMany({ where: { id: { in: lastIds } }, select: messageSelect }),
  ]);
  const countOf = new Map(counts.map((c) => [c.conversationId, c._count._all]));
  const lastOf = new Map(lastMessages.map((m) => [m.conversationId, toMessageDto(m)]));
  return page.map((row) => ({
    ...toShared(
      { id: row.id, title: row.title, isDirect: Boolean(row.isDirect), createdAt: new Date(row.createdAt) },
      members.get(row.id) ?? [],
      countOf.get(row.id) ?? 0,
      lastOf.get(row.id) ?? null,
    ),
    ...readStateOf(row),
    notify: notifyLevelOf(row.notify),
  }));
}
