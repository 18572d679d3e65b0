// Changes to stored messages (contract v2): edit, delete, reactions, and replies in threads. Each
// writes the rows and a "message.updated" event of the whole message under the lock that orders
// the event log - so every member at that moment receives it in order with the messages, and a
// client resuming later replays the message as it is now (a deleted one as its tombstone). Edits,
// deletes and replies are one ordered transaction each (commitInOrder); reactions, which can be as
// many as deliveries, are group-committed through the message store (db.messages.react, batched by
// ReactionWriter), like new messages of the main list (db.messages.insert). A reply takes
// commitInOrder, because it also moves its root.
import { attachmentEntry, attachmentProblem, messageSelect, type OrderedTransaction, type StoredMessage } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import { isBlankText, MAX_MESSAGE_LENGTH } from "../limits.js";
import type { RecountEventData } from "../live/feed.js";
import { MAX_REACTIONS_PER_MESSAGE, type MessageDto, type ReadStateDto } from "../schemas.js";
import { readStateOf } from "./conversation-views.js";
import { mentionedNames } from "./mentions.js";
import { commitInOrder } from "./ordered-changes.js";
import { toMessageDto } from "./selects.js";
import { attachmentError } from "./attachment-errors.js";

type Tx = OrderedTransaction["tx"];

/** The uploads a new message names, in that order, checked as the message store checks them (db.messages.insert). */
async function attachableUploads(tx: Tx, message: { senderId: string; conversationId: string }, attachmentIds: readonly string[]) {
  if (attachmentIds.length === 0) return [];
  const rows = await tx.attachment.findMany({
    where: { id: { in: [...attachmentIds] } },
    select: { id: true, conversationId: true, uploaderId: true, messageId: true, name: true, size: true, contentType: true, width: true, height: true },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return attachmentIds.map((attachmentId) => {
    const upload = byId.get(attachmentId);
    const problem = attachmentProblem(upload, message, false);
    if (problem !== null || !upload) throw attachmentError(attachmentId, problem ?? "not_found");
    return upload;
  });
}

/** The message and the caller's membership, read inside the transaction (the procedure's check may be stale). */
async function messageForChange(tx: Tx, messageId: bigint, callerId: string) {
  const message = await tx.message.findUnique({ where: { id: messageId }, select: messageSelect });
  if (!message) throw new DomainError("not_found", "No such message");
  const member = await tx.conversationMember.findUnique({
    where: { conversationId_userId: { conversationId: message.conversationId, userId: callerId } },
    select: { role: true },
  });
  if (!member) throw new DomainError("forbidden", "You are not a member of this message's conversation");
  return { message, member };
}

/** Members' user ids mentioned in `content`, in the order first written. */
async function resolveMentions(tx: Tx, conversationId: string, content: string): Promise<string[]> {
  const names = mentionedNames(content);
  if (names.length === 0) return [];
  const members = await tx.conversationMember.findMany({ where: { conversationId, user: { username: { in: names } } }, select: { userId: true, user: { select: { username: true } } } });
  return members.sort((a, b) => names.indexOf(a.user.username) - names.indexOf(b.user.username)).map((m) => m.userId);
}

/**
 * Counts a message for the members who have it unread (after their pointer, not their own): moves
 * their counts by `unread`, and their mention counts by the change in whether it mentions them, then
 * returns their new read state (only of those whose counts changed).
 */
async function recount(
  tx: Tx,
  message: Pick<StoredMessage, "id" | "conversationId" | "senderId">,
  change: { unread: -1 | 0; mentionedBefore: readonly string[]; mentionedAfter: readonly string[] },
): Promise<Record<string, ReadStateDto>> {
  const unreadFor = {
    conversationId: message.conversationId,
    userId: { not: message.senderId },
    OR: [{ lastReadMessageId: null }, { lastReadMessageId: { lt: message.id } }],
  };
  const before = new Set(change.mentionedBefore);
  const after = new Set(change.mentionedAfter);
  const lostMention = [...before].filter((id) => !after.has(id));
  const gainedMention = [...after].filter((id) => !before.has(id));
  const touched = new Set<string>();
  if (change.unread !== 0) {
    const rows = await tx.conversationMember.findMany({ where: { ...unreadFor, unreadCount: { gt: 0 } }, select: { userId: true } });
    await tx.conversationMember.updateMany({ where: { ...unreadFor, unreadCount: { gt: 0 } }, data: { unreadCount: { decrement: 1 } } });
    for (const row of rows) touched.add(row.userId);
  }
  if (lostMention.length > 0) {
    const where = { ...unreadFor, userId: { in: lostMention.filter((id) => id !== message.senderId) }, mentionCount: { gt: 0 } };
    const rows = await tx.conversationMember.findMany({ where, select: { userId: true } });
    await tx.conversationMember.updateMany({ where, data: { mentionCount: { decrement: 1 } } });
    for (const row of rows) touched.add(row.userId);
  }
  if (gainedMention.length > 0) {
    const where = { ...unreadFor, userId: { in: gainedMention.filter((id) => id !== message.senderId) } };
    const rows = await tx.conversationMember.findMany({ where, select: { userId: true } });
    await tx.conversationMember.updateMany({ where, data: { mentionCount: { increment: 1 } } });
    for (const row of rows) touched.add(row.userId);
  }
  if (touched.size === 0) return {};
  const states = await tx.conversationMember.findMany({
    where: { conversationId: message.conversationId, userId: { in: [...touched] } },
    select: { userId: true, lastReadMessageId: true, unreadCount: true, mentionCount: true },
  });
  return Object.fromEntries(states.map((s) => [s.userId, readStateOf(s)]));
}

/** Appends the events of a changed message: its message.updated, and the recounted read state of those it was unread for. */
async function appendChange(t: OrderedTransaction, message: Pick<StoredMessage, "id" | "conversationId">, actorId: string, reads: Record<string, ReadStateDto> = {}) {
  await t.append({ kind: "message.updated", conversationId: message.conversationId, messageId: message.id, userId: actorId });
  if (Object.keys(reads).length > 0) {
    const data: RecountEventData = { reads };
    await t.append({ kind: "read.updated", conversationId: message.conversationId, messageId: message.id, data: JSON.stringify(data) });
  }
}

/** Takes one change from the caller's budget; `run` returning null (nothing changed) or throwing gives it back. */
async function limited<T>(services: Services, userId: string, run: () => Promise<T | null>, unchanged: () => Promise<T>): Promise<T> {
  const wait = await services.messageChangesByUser.take(userId);
  if (wait > 0) throw new DomainError("rate_limited", `Too many changes to messages. Try again in ${wait} seconds.`, wait);
  let changed: T | null = null;
  try {
    changed = await run();
  } finally {
    if (changed === null) await services.messageChangesByUser.refund(userId);
  }
  return changed ?? (await unchanged());
}

async function currentMessage(services: Services, messageId: bigint): Promise<MessageDto> {
  const row = await services.db.prisma.message.findUnique({ where: { id: messageId }, select: messageSelect });
  if (!row) throw new DomainError("not_found", "No such message");
  return toMessageDto(row);
}

export async function editMessage(services: Services, callerId: string, input: { messageId: string; content: string }): Promise<MessageDto> {
  const id = BigInt(input.messageId);
  return limited(
    services,
    callerId,
    () =>
      commitInOrder(services, async (t) => {
        const { message } = await messageForChange(t.tx, id, callerId);
        if (message.senderId !== callerId) throw new DomainError("forbidden", "Only the sender can edit a message");
        if (message.deletedAt) throw new DomainError("invalid", "A deleted message cannot be edited");
        // As at send: no words only beside files (then stored as "").
        const blank = isBlankText(input.content);
        if (blank && message.attachments === "[]") {
          throw new DomainError("invalid", input.content === "" ? `message must be 1 to ${MAX_MESSAGE_LENGTH} characters` : "message must not be only white space");
        }
        const content = blank ? "" : input.content;
        if (message.content === content) return null;
        const mentions = await resolveMentions(t.tx, message.conversationId, content);
        const before = JSON.parse(message.mentions) as string[];
        const updated = await t.tx.message.update({
          where: { id },
          data: { content, mentions: JSON.stringify(mentions), editedAt: services.clock.now() },
          select: messageSelect,
        });
        const reads = await recount(t.tx, message, { unread: 0, mentionedBefore: before, mentionedAfter: mentions });
        await appendChange(t, message, callerId, reads);
        return toMessageDto(updated);
      }),
    () => currentMessage(services, id),
  );
}

export async function deleteMessage(services: Services, callerId: string, input: { messageId: string }): Promise<MessageDto> {
  const id = BigInt(input.messageId);
  let removed = false;
  let files: string[] = [];
  const deleted = await limited(
    services,
    callerId,
    () =>
      commitInOrder(services, async (t) => {
        const { message, member } = await messageForChange(t.tx, id, callerId);
        if (message.senderId !== callerId && member.role !== "owner") throw new DomainError("forbidden", "Only the sender or an owner of the group can delete a message");
        // Deleting again: the tombstone, and nothing happens.
        if (message.deletedAt) return null;
        const now = services.clock.now();
        await t.tx.reaction.deleteMany({ where: { messageId: id } });
        // Its files go with it: the rows now, the bytes after the commit.
        const attachments = await t.tx.attachment.findMany({ where: { messageId: id }, select: { storageKey: true } });
        await t.tx.attachment.deleteMany({ where: { messageId: id } });
        files = attachments.map((a) => a.storageKey);
        const updated = await t.tx.message.update({
          where: { id },
          data: { content: "", mentions: "[]", reactions: "[]", attachments: "[]", deletedAt: now },
          select: messageSelect,
        });
        const reads = await recount(t.tx, message, { unread: -1, mentionedBefore: JSON.parse(message.mentions) as string[], mentionedAfter: [] });
        await appendChange(t, message, callerId, reads);
        removed = true;
        // A deleted reply no longer counts in its thread.
        if (message.threadId !== null) {
          const root = await t.tx.message.findUnique({ where: { id: message.threadId }, select: { id: true, conversationId: true } });
          if (root) {
            const newest = await t.tx.message.findFirst({ where: { threadId: root.id, deletedAt: null }, orderBy: { id: "desc" }, select: { createdAt: true } });
            const replies = await t.tx.message.count({ where: { threadId: root.id, deletedAt: null } });
            await t.tx.message.update({ where: { id: root.id }, data: { replyCount: replies, lastReplyAt: newest?.createdAt ?? null } });
            await appendChange(t, root, callerId);
          }
        }
        return toMessageDto(updated);
      }),
    () => currentMessage(services, id),
  );
  // The old text must not survive in the database's files (SQLite's WAL); see SECURITY.md.
  if (removed) await services.db.scrubRemovedContent();
  // Best effort: a file left behind has no row, so the sweep removes it.
  if (removed && files.length > 0) await services.files.removeStored(files);
  return deleted;
}

/**
 * Turns the caller's reaction with one emoji on or off. Not a commitInOrder transaction: reactions
 * are as many as deliveries when every member reacts, so they are group-committed through the
 * message store (ReactionWriter), which applies the same rules under the same lock.
 */
export async function reactToMessage(services: Services, callerId: string, input: { messageId: string; emoji: string; on: boolean }): Promise<MessageDto> {
  const request = { messageId: BigInt(input.messageId), userId: callerId, emoji: input.emoji, on: input.on };
  // Nothing changed: the answer is the message as the store read it, under the lock.
  let asItIs: MessageDto | null = null;
  return limited(
    services,
    callerId,
    async () => {
      const outcome = await services.reactions.react(request);
      switch (outcome.status) {
        case "changed":
          return outcome.message;
        case "unchanged":
          asItIs = outcome.message;
          return null;
        case "not_found":
          throw new DomainError("not_found", "No such message");
        case "not_member":
          throw new DomainError("forbidden", "You are not a member of this message's conversation");
        case "deleted":
          throw new DomainError("invalid", "A deleted message cannot be reacted to");
        case "too_many":
          throw new DomainError("invalid", `A message can have at most ${MAX_REACTIONS_PER_MESSAGE} different emoji`);
      }
    },
    async () => asItIs ?? currentMessage(services, request.messageId),
  );
}

export type ReplyOutcome = { status: "created" | "duplicate"; message: MessageDto } | { status: "not_member" };

/**
 * Stores a reply in one ordered transaction: the message and its "message.created" event, read
 * state as a send moves it (the sender's pointer to it, everyone else's counts up), and its root's
 * replyCount/lastReplyAt with the root's "message.updated" event.
 */
export async function storeReply(
  services: Services,
  senderId: string,
  input: { conversationId: string; content: string; clientMessageId: string; threadId: string; attachmentIds?: readonly string[] | undefined },
): Promise<ReplyOutcome> {
  const rootId = BigInt(input.threadId);
  return commitInOrder(services, async (t): Promise<ReplyOutcome> => {
    const { tx } = t;
    const stored = await tx.message.findUnique({ where: { senderId_clientMessageId: { senderId, clientMessageId: input.clientMessageId } }, select: messageSelect });
    if (stored) return { status: "duplicate", message: toMessageDto(stored) };
    const sender = await tx.conversationMember.findUnique({ where: { conversationId_userId: { conversationId: input.conversationId, userId: senderId } }, select: { userId: true } });
    if (!sender) return { status: "not_member" };
    const root = await tx.message.findUnique({ where: { id: rootId }, select: { id: true, conversationId: true, threadId: true, deletedAt: true } });
    if (!root) throw new DomainError("not_found", "No such message to reply to");
    if (root.conversationId !== input.conversationId) throw new DomainError("invalid", "threadId must name a message of the same conversation");
    if (root.threadId !== null) throw new DomainError("invalid", "threadId must name a thread's root, not a reply");
    if (root.deletedAt) throw new DomainError("invalid", "A deleted message cannot be replied to");
    const attachmentIds = input.attachmentIds ?? [];
    const uploads = await attachableUploads(tx, { senderId, conversationId: input.conversationId }, attachmentIds);
    const mentions = await resolveMentions(tx, input.conversationId, input.content);
    const id = t.nextId();
    const createdAt = services.clock.now();
    const created = await tx.message.create({
      data: {
        id,
        conversationId: input.conversationId,
        senderId,
        content: input.content,
        clientMessageId: input.clientMessageId,
        mentions: JSON.stringify(mentions),
        threadId: rootId,
        createdAt,
        attachments: JSON.stringify(uploads.map(attachmentEntry)),
      },
      select: messageSelect,
    });
    if (attachmentIds.length > 0) {
      // Only while still unattached: a sweep on another instance may have removed one meanwhile.
      const { count } = await tx.attachment.updateMany({ where: { id: { in: [...attachmentIds] }, messageId: null }, data: { messageId: id } });
      if (count !== attachmentIds.length) throw new DomainError("invalid", "An upload is no longer available to attach");
    }
    await t.append({ kind: "message.created", conversationId: input.conversationId, messageId: id });
    // As a send: the sender has read up to their own message; it is unread (and maybe a mention) for everyone else.
    await tx.conversationMember.update({
      where: { conversationId_userId: { conversationId: input.conversationId, userId: senderId } },
      data: { lastReadMessageId: id, unreadCount: 0, mentionCount: 0 },
    });
    await tx.conversationMember.updateMany({ where: { conversationId: input.conversationId, userId: { not: senderId } }, data: { unreadCount: { increment: 1 } } });
    const mentioned = mentions.filter((userId) => userId !== senderId);
    if (mentioned.length > 0) {
      await tx.conversationMember.updateMany({ where: { conversationId: input.conversationId, userId: { in: mentioned } }, data: { mentionCount: { increment: 1 } } });
    }
    await tx.message.update({ where: { id: rootId }, data: { replyCount: { increment: 1 }, lastReplyAt: createdAt } });
    await appendChange(t, root, senderId);
    return { status: "created", message: toMessageDto(created) };
  });
}
