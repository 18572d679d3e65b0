import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect } from "@parley/db";
import { toMessageDto } from "./selects.js";
import { mentionedNames } from "./mentions.js";
import type { FeedEntry } from "../live/feed.js";
import { REPLAY_PAGE } from "../live/feed-stream.js";
import { storeReply, type ReplyOutcome } from "./message-changes.js";
import type { Written } from "./message-writer.js";
import { attachmentError } from "./attachment-errors.js";

export async function sendMessage(
  services: Services,
  senderId: string,
  input: { conversationId: string; content: string; clientMessageId: string; threadId?: string | null | undefined; attachmentIds?: readonly string[] | undefined },
): Promise<MessageDto> {
  const { db, writer, messagesByUser } = services;
  const wait = await messagesByUser.take(senderId);
  if (wait > 0) {
    // Over the limit, a retry of a message already stored is still answered.
    const existing = await db.prisma.message.findUnique({
      where: { senderId_clientMessageId: { senderId, clientMessageId: input.clientMessageId } },
      select: messageSelect,
    });
    if (existing) return toMessageDto(existing);
    throw new DomainError("rate_limited", `Too many messages. Try again in ${wait} seconds.`, wait);
  }
  const { threadId, ...message } = input;
  let written: Written | ReplyOutcome;
  try {
    written = threadId
      ? // A reply also moves its root: an ordered transaction of its own, off the message store's batches.
        await storeReply(services, senderId, { ...message, threadId })
      : await writer.write({ ...message, senderId, mentionNames: mentionedNames(input.content) });
  } catch (error) {
    await messagesByUser.refund(senderId);
    throw error;
  }
  // A retry stores nothing, so it does not count against the sender.
  if (written.status !== "created") await messagesByUser.refund(senderId);
  // Removed between the membership check and the write (on this or another instance).
  if (written.status === "not_member") throw new DomainError("forbidden", "You are not a member of this conversation");
  if (written.status === "bad_attachment") throw attachmentError(written.attachmentId, written.problem);
  return written.message;
}


export async function listMessages(
  services: Services,
  input: { conversationId: string; cursor?: string | null | undefined; limit: number; threadId?: string | null | undefined },
): Promise<{ items: MessageDto[]; nextCursor: string | null }> {
  const { db } = services;
  const before = input.cursor ? BigInt(input.cursor) : null;
  let rows;
  if (input.threadId) {
    const root = await db.prisma.message.findUnique({ where: { id: BigInt(input.threadId) }, select: { conversationId: true, threadId: true } });
    if (!root || root.conversationId !== input.conversationId) throw new DomainError("not_found", "No such thread in this conversation");
    if (root.threadId !== null) throw new DomainError("invalid", "threadId must name a thread's root, not a reply");
    rows = await db.messages.threadPage(BigInt(input.threadId), before, input.limit + 1);
  } else {
    // The main list: messages that are not replies.
    rows = await db.messages.page(input.conversationId, before, input.limit + 1);
  }
  const hasMore = rows.length > input.limit;
  const page = rows.slice(0, input.limit).reverse();
  const oldest = page[0];
  return { items: page.map(toMessageDto), nextCursor: hasMore && oldest ? oldest.id.toString() : null };
}

/**
 * One page of the messages after `afterId` in the conversations the user belongs to now, oldest
 * first: message.live's replay from a position older than the event log keeps.
 */
export async function messagesForUserAfter(services: Services, userId: string, afterId: bigint): Promise<{ entries: FeedEntry[]; lastId: bigint; rows: number }> {
  const rows = await services.db.prisma.message.findMany({
    where: { id: { gt: afterId }, conversation: { members: { some: { userId } } } },
    orderBy: { id: "asc" },
    take: REPLAY_PAGE,
    select: messageSelect,
  });
  const entries = rows.map((row): FeedEntry => ({ kind: "message.created", id: row.id.toString(), message: toMessageDto(row) }));
  return { entries, lastId: rows.at(-1)?.id ?? afterId, rows: rows.length };
}
