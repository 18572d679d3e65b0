import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect } from "@parley/db";
import { toMessageDto } from "./selects.js";
import { mentionedNames } from "./mentions.js";
import type { FeedEntry } from "../live/feed.js";
import { REPLAY_PAGE } from "../live/feed-stream.js";

export async function sendMessage(
  services: Services,
  senderId: string,
  input: { conversationId: string; content: string; clientMessageId: string },
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
  const written = await writer.write({ ...input, senderId, mentionNames: mentionedNames(input.content) });
  // A retry stores nothing, so it does not count against the sender.
  if (written.status !== "created") await messagesByUser.refund(senderId);
  // Removed between the membership check and the write (on this or another instance).
  if (written.status === "not_member") throw new DomainError("forbidden", "You are not a member of this conversation");
  return written.message;
}

export async function listMessages(
  services: Services,
  input: { conversationId: string; cursor?: string | null | undefined; limit: number },
): Promise<{ items: MessageDto[]; nextCursor: string | null }> {
  const rows = await services.db.messages.page(input.conversationId, input.cursor ? BigInt(input.cursor) : null, input.limit + 1);
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
