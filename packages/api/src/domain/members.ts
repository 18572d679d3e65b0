// Changing who is in a group, and its title: each change is one ordered transaction that writes the
// rows and one "conversation.updated" event (members get the new conversation, a removed member gets
// "conversation.removed" and nothing more of it). Rules (contract v2): any member may add members;
// owners rename and remove; anyone may leave; when the last owner leaves, the longest-standing member
// becomes owner; a group left by everyone is gone. Direct conversations cannot be changed.
import type { OrderedTransaction } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { ConversationEventData } from "../live/feed.js";
import type { ConversationDto, NotifyLevel } from "../schemas.js";
import { getConversation, readStateOf, requireJoinableUsers } from "./conversations.js";
import { notifyLevelsOf } from "./conversation-views.js";
import { commitInOrder } from "./ordered-changes.js";
import { chunked } from "./sql.js";

const IDS_PER_STATEMENT = 500;

type Tx = OrderedTransaction["tx"];

/** The group with its members' roles, read inside the transaction; refuses a direct conversation. */
async function groupOf(tx: Tx, conversationId: string) {
  const conversation = await tx.conversation.findUnique({ where: { id: conversationId }, select: { id: true, isDirect: true, title: true } });
  if (!conversation) throw new DomainError("not_found", "No such conversation");
  if (conversation.isDirect) throw new DomainError("invalid", "A direct conversation always has its two people: it cannot be renamed, added to, removed from or left");
  const members = await tx.conversationMember.findMany({
    where: { conversationId },
    orderBy: [{ joinedAt: "asc" }, { userId: "asc" }],
    select: { userId: true, role: true, joinedEventId: true, lastReadMessageId: true, unreadCount: true, mentionCount: true, notify: true },
  });
  return { conversation, members };
}

type Members = Awaited<ReturnType<typeof groupOf>>["members"];

function requireMember(members: Members, userId: string) {
  const member = members.find((m) => m.userId === userId);
  if (!member) throw new DomainError("forbidden", "You are not a member of this conversation");
  return member;
}

/** The event of a change: every remaining member's read state, who joined and who left. */
function eventData(members: Members, change: { added?: string[]; removed?: string[] }): string {
  const data: ConversationEventData = {
    reads: Object.fromEntries(members.map((m) => [m.userId, readStateOf(m)])),
    added: change.added ?? [],
    removed: change.removed ?? [],
    notify: notifyLevelsOf(members),
  };
  return JSON.stringify(data);
}

export async function addMembers(services: Services, callerId: string, input: { conversationId: string; userIds: string[] }): Promise<ConversationDto> {
  const { config, conversationMembersByUser } = services;
  const wanted = [...new Set(input.userIds)];
  await requireJoinableUsers(services, wanted, "userIds");
  const budget = config.limits.conversationMembersPerUser.max;
  if (wanted.length > budget) throw new DomainError("invalid", `At most ${budget} members can be added at once`);
  const wait = await conversationMembersByUser.take(callerId, wanted.length);
  if (wait > 0) throw new DomainError("rate_limited", `Too many members added recently. Try again in ${wait} seconds.`, wait);

  let added: string[] = [];
  try {
    added = await commitInOrder(services, async ({ tx, append, nextId }) => {
      const { members } = await groupOf(tx, input.conversationId);
      requireMember(members, callerId);
      const present = new Set(members.map((m) => m.userId));
      const newcomers = wanted.filter((id) => !present.has(id));
      if (newcomers.length === 0) return [];
      // A newcomer has read everything before they joined: only later messages count as unread.
      const last = await tx.message.findFirst({ where: { conversationId: input.conversationId }, orderBy: { id: "desc" }, select: { id: true } });
      const joinedEventId = nextId();
      const joinedAt = services.clock.now();
      for (const chunk of chunked(newcomers, IDS_PER_STATEMENT / 5)) {
        await tx.conversationMember.createMany({
          data: chunk.map((userId) => ({ conversationId: input.conversationId, userId, joinedAt, joinedEventId, role: "member", lastReadMessageId: last?.id ?? null })),
        });
      }
      const after = [
        ...members,
        ...newcomers.map((userId) => ({ userId, role: "member", joinedEventId, lastReadMessageId: last?.id ?? null, unreadCount: 0, mentionCount: 0, notify: "all" })),
      ];
      await append({ kind: "conversation.updated", conversationId: input.conversationId, userId: callerId, data: eventData(after, { added: newcomers }) });
      return newcomers;
    });
  } finally {
    // Only those who were not members already count against the caller.
    const unused = wanted.length - added.length;
    if (unused > 0) await conversationMembersByUser.refund(callerId, unused);
  }
  return getConversation(services, callerId, input.conversationId);
}

/**
 * Ends `userId`'s membership inside an ordered transaction: the row goes, the span is kept for
 * replay, the last owner's leaving promotes the longest-standing member, and the last member's
 * leaving deletes the group (its messages with it). Returns whether the group still exists.
 */
async function endMembership(t: OrderedTransaction, conversationId: string, members: Members, userId: string, actorId: string): Promise<boolean> {
  const { tx, append, nextId } = t;
  const leaving = members.find((m) => m.userId === userId);
  if (!leaving) throw new DomainError("not_found", "That user is not a member of this conversation");
  const remaining = members.filter((m) => m.userId !== userId);
  const eventId = nextId();
  await tx.conversationMember.delete({ where: { conversationId_userId: { conversationId, userId } } });
  await tx.pastMembership.create({ data: { userId, conversationId, fromEventId: leaving.joinedEventId, toEventId: eventId } });
  const first = remaining[0];
  if (first && !remaining.some((m) => m.role === "owner")) {
    await tx.conversationMember.update({ where: { conversationId_userId: { conversationId, userId: first.userId } }, data: { role: "owner" } });
    first.role = "owner";
  }
  await append({ kind: "conversation.updated", conversationId, userId: actorId, data: eventData(remaining, { removed: [userId] }) });
  if (remaining.length === 0) {
    await tx.conversation.delete({ where: { id: conversationId } });
    return false;
  }
  return true;
}

export async function removeMember(services: Services, callerId: string, input: { conversationId: string; userId: string }): Promise<ConversationDto> {
  if (input.userId === callerId) throw new DomainError("invalid", "To remove yourself, leave the conversation (conversation.leave)");
  await commitInOrder(services, async (t) => {
    const { members } = await groupOf(t.tx, input.conversationId);
    const caller = requireMember(members, callerId);
    if (caller.role !== "owner") throw new DomainError("forbidden", "Only an owner can remove members");
    await endMembership(t, input.conversationId, members, input.userId, callerId);
  });
  return getConversation(services, callerId, input.conversationId);
}

export async function leaveConversation(services: Services, callerId: string, input: { conversationId: string }): Promise<{ ok: true }> {
  await commitInOrder(services, async (t) => {
    const { members } = await groupOf(t.tx, input.conversationId);
    requireMember(members, callerId);
    await endMembership(t, input.conversationId, members, callerId, callerId);
  });
  return { ok: true };
}

export async function renameConversation(services: Services, callerId: string, input: { conversationId: string; title: string }): Promise<ConversationDto> {
  const title = input.title === "" ? null : input.title;
  await commitInOrder(services, async ({ tx, append }) => {
    const { conversation, members } = await groupOf(tx, input.conversationId);
    const caller = requireMember(members, callerId);
    if (caller.role !== "owner") throw new DomainError("forbidden", "Only an owner can rename the conversation");
    if (conversation.title === title) return;
    await tx.conversation.update({ where: { id: input.conversationId }, data: { title } });
    await append({ kind: "conversation.updated", conversationId: input.conversationId, userId: callerId, data: eventData(members, {}) });
  });
  return getConversation(services, callerId, input.conversationId);
}

/**
 * The caller's notification level in a conversation. A change is a "conversation.updated" event for
 * the caller alone (their other tabs and devices); setting the level it has changes nothing.
 */
export async function setNotify(services: Services, callerId: string, input: { conversationId: string; level: NotifyLevel }): Promise<ConversationDto> {
  const { messageChangesByUser } = services;
  const wait = await messageChangesByUser.take(callerId);
  if (wait > 0) throw new DomainError("rate_limited", `Too many changes. Try again in ${wait} seconds.`, wait);
  let changed = false;
  try {
    changed = await commitInOrder(services, async ({ tx, append }) => {
      const member = await tx.conversationMember.findUnique({
        where: { conversationId_userId: { conversationId: input.conversationId, userId: callerId } },
        select: { userId: true, notify: true, lastReadMessageId: true, unreadCount: true, mentionCount: true },
      });
      if (!member) throw new DomainError("forbidden", "You are not a member of this conversation");
      if (member.notify === input.level) return false;
      await tx.conversationMember.update({ where: { conversationId_userId: { conversationId: input.conversationId, userId: callerId } }, data: { notify: input.level } });
      const data: ConversationEventData = {
        reads: { [callerId]: readStateOf(member) },
        added: [],
        removed: [],
        notify: notifyLevelsOf([{ userId: callerId, notify: input.level }]),
        to: [callerId],
      };
      await append({ kind: "conversation.updated", conversationId: input.conversationId, userId: callerId, data: JSON.stringify(data) });
      return true;
    });
  } finally {
    if (!changed) await messageChangesByUser.refund(callerId);
  }
  return getConversation(services, callerId, input.conversationId);
}
