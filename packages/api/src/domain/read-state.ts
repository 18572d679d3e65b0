// The caller's read pointer in a conversation. It only moves forward; each move is a "read.updated"
// event (the reader's tabs get the new counts, the other members a read receipt). Sending a message
// moves the sender's pointer too - in the message store, in the same transaction as the message.
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { ReadStateDto } from "../schemas.js";
import { readStateDto } from "./read-writer.js";

export async function markRead(services: Services, callerId: string, input: { conversationId: string; messageId: string }): Promise<ReadStateDto> {
  const { db, reads } = services;
  const messageId = BigInt(input.messageId);
  // Through the message store's prepared statements, not Prisma: a reader marks as often as messages come.
  const conversationId = await db.messages.conversationOf(messageId);
  if (conversationId !== input.conversationId) throw new DomainError("not_found", "No such message in this conversation");

  // Most calls move nothing (a tab marking what another tab already marked): answered without the lock.
  const current = await db.messages.readState(input.conversationId, callerId);
  if (!current) throw new DomainError("forbidden", "You are not a member of this conversation");
  if (current.lastReadMessageId !== null && current.lastReadMessageId >= messageId) return readStateDto(current);

  const outcome = await reads.mark({ conversationId: input.conversationId, userId: callerId, messageId });
  if (outcome.status === "not_member") throw new DomainError("forbidden", "You are not a member of this conversation");
  return readStateDto(outcome.state);
}
