import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect } from "@parley/db";
import { toMessageDto } from "./selects.js";

export async function sendMessage(
  services: Services,
  senderId: string,
  recipientIds: ReadonlySet<string>,
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
  const { message, created } = await writer.write({ ...input, senderId }, [...recipientIds]);
  // A retry stores nothing, so it does not count against the sender.
  if (!created) await messagesByUser.refund(senderId);
  return message;
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

const BACKFILL_PAGE = 500;

/** Messages after `afterId` in every conversation the user belongs to, oldest first, one page. */
export async function messagesForUserAfter(services: Services, userId: string, afterId: bigint): Promise<MessageDto[]> {
  const rows = await services.db.prisma.message.findMany({
    where: { id: { gt: afterId }, conversation: { members: { some: { userId } } } },
    orderBy: { id: "asc" },
    take: BACKFILL_PAGE,
    select: messageSelect,
  });
  return rows.map(toMessageDto);
}

export { BACKFILL_PAGE };
