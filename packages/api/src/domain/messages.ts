import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect, type StoredMessage } from "@parley/db";
import { toMessageDto } from "./selects.js";
import { mentionedNames } from "./mentions.js";
import type { FeedEntry } from "../live/feed.js";
import { REPLAY_PAGE } from "../live/feed-stream.js";
import { storeReply, type ReplyOutcome } from "./message-changes.js";
import type { Written } from "./message-writer.js";
import { attachmentError } from "./attachment-errors.js";

type SendInput = { conversationId: string; content: string; clientMessageId: string; threadId?: string | null | undefined; attachmentIds?: readonly string[] | undefined };

/** Stores and publishes a message (message.send); its latency is recorded when it answers with one. */
export async function sendMessage(services: Services, senderId: string, input: SendInput): Promise<MessageDto> {
  const started = performance.now();
  const message = await storeMessage(services, senderId, input);
  services.metrics.sendCompleted((performance.now() - started) / 1000);
  return message;
}

async function storeMessage(services: Services, senderId: string, input: SendInput): Promise<MessageDto> {
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
  if (written.status === "created") services.metrics.messagesStored(1);
  else await messagesByUser.refund(senderId);
  // Removed between the membership check and the write (on this or another instance).
  if (written.status === "not_member") throw new DomainError("forbidden", "You are not a member of this conversation");
  if (written.status === "bad_attachment") throw attachmentError(written.attachmentId, written.problem);
  return written.message;
}

export interface ListMessagesInput {
  conversationId: string;
  limit: number;
  threadId?: string | null | undefined;
  /** At most one of these three (the input schema checks). */
  cursor?: string | null | undefined;
  around?: string | null | undefined;
  after?: string | null | undefined;
}

export interface MessagePage {
  items: MessageDto[];
  nextCursor: string | null;
  newerCursor?: string | null;
}

export async function listMessages(services: Services, input: ListMessagesInput): Promise<MessagePage> {
  const { db } = services;
  const { limit } = input;
  let older: (beforeId: bigint | null, count: number) => Promise<StoredMessage[]>;
  let newer: (afterId: bigint, count: number) => Promise<StoredMessage[]>;
  if (input.threadId) {
    const rootId = BigInt(input.threadId);
    const root = await db.prisma.message.findUnique({ where: { id: rootId }, select: { conversationId: true, threadId: true } });
    if (!root || root.conversationId !== input.conversationId) throw new DomainError("not_found", "No such thread in this conversation");
    if (root.threadId !== null) throw new DomainError("invalid", "threadId must name a thread's root, not a reply");
    older = (beforeId, count) => db.messages.threadPage(rootId, beforeId, count);
    newer = (afterId, count) => db.messages.threadPageAfter(rootId, afterId, count);
  } else {
    // The main list: messages that are not replies.
    older = (beforeId, count) => db.messages.page(input.conversationId, beforeId, count);
    newer = (afterId, count) => db.messages.pageAfter(input.conversationId, afterId, count);
  }

  if (input.after) {
    // Whether anything is older than this page (at or below `after`), read alongside: a client
    // reloading its pages from the newest one it holds goes on through nextCursor.
    const after = BigInt(input.after);
    const [rows, below] = await Promise.all([newer(after, limit + 1), older(after + 1n, 1)]);
    const items = rows.slice(0, limit);
    return {
      items: items.map(toMessageDto),
      nextCursor: below.length > 0 ? idOf(items[0]) : null,
      newerCursor: rows.length > limit ? idOf(items.at(-1)) : null,
    };
  }
  if (input.around) {
    // The target and the older half in one read (below target + 1), the newer half in another.
    const target = BigInt(input.around);
    const olderCount = Math.ceil(limit / 2);
    const newerCount = limit - olderCount;
    const [below, above] = await Promise.all([older(target + 1n, olderCount + 1), newer(target, newerCount + 1)]);
    if (below[0]?.id !== target) throw new DomainError("not_found", "No such message in this list");
    const olderItems = below.slice(0, olderCount).reverse();
    const newerItems = above.slice(0, newerCount);
    const items = [...olderItems, ...newerItems];
    return {
      items: items.map(toMessageDto),
      nextCursor: below.length > olderCount ? idOf(olderItems[0]) : null,
      newerCursor: above.length > newerCount ? idOf(items.at(-1)) : null,
    };
  }
  const rows = await older(input.cursor ? BigInt(input.cursor) : null, limit + 1);
  const page = rows.slice(0, limit).reverse();
  return { items: page.map(toMessageDto), nextCursor: rows.length > limit ? idOf(page[0]) : null };
}

function idOf(message: StoredMessage | undefined): string | null {
  return message ? message.id.toString() : null;
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
