// The caller's read pointer in a conversation. It only moves forward; each move is a "read.updated"
// event (the reader's tabs get the new counts, the other members a read receipt). Sending a message
// moves the sender's pointer too - in the message store, in the same transaction as the message.
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { ReadEventData } from "../live/feed.js";
import type { ReadStateDto } from "../schemas.js";
import { readStateOf } from "./conversations.js";
import { commitInOrder } from "./ordered-changes.js";

export async function markRead(services: Services, callerId: string, input: { conversationId: string; messageId: string }): Promise<ReadStateDto> {
  const { db } = services;
  const messageId = BigInt(input.messageId);
  const message = await db.prisma.message.findUnique({ where: { id: messageId }, select: { conversationId: true } });
  if (!message || message.conversationId !== input.conversationId) throw new DomainError("not_found", "No such message in this conversation");
  const key = { conversationId_userId: { conversationId: input.conversationId, userId: callerId } };
  const readSelect = { lastReadMessageId: true, unreadCount: true, mentionCount: true } as const;

  // Most calls move nothing (a tab marking what another tab already marked): answered without the lock.
  const current = await db.prisma.conversationMember.findUnique({ where: key, select: readSelect });
  if (!current) throw new DomainError("forbidden", "You are not a member of this conversation");
  if (current.lastReadMessageId !== null && current.lastReadMessageId >= messageId) return readStateOf(current);

  return commitInOrder(services, async ({ tx, append }) => {
    const before = await tx.conversationMember.findUnique({ where: key, select: readSelect });
    if (!before) throw new DomainError("forbidden", "You are not a member of this conversation");
    if (before.lastReadMessageId !== null && before.lastReadMessageId >= messageId) return readStateOf(before);
    // What is left unread after the new pointer: counted once here, then kept by every send.
    const after = { conversationId: input.conversationId, id: { gt: messageId }, senderId: { not: callerId } };
    const [unreadCount, mentionCount] = await Promise.all([
      tx.message.count({ where: after }),
      tx.message.count({ where: { ...after, mentions: { contains: `"${callerId}"` } } }),
    ]);
    const read = await tx.conversationMember.update({ where: key, data: { lastReadMessageId: messageId, unreadCount, mentionCount }, select: readSelect });
    const state = readStateOf(read);
    const data: ReadEventData = state;
    await append({ kind: "read.updated", conversationId: input.conversationId, userId: callerId, messageId, data: JSON.stringify(data) });
    return state;
  });
}
