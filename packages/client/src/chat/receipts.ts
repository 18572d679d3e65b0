// Read receipts: how far each other member of a conversation has read. Each member of a loaded
// conversation carries their pointer (`lastReadMessageId`, as of the load or the event); after
// that, someone else's `read.updated` carries it (without counts), and their own message moves it
// too (sending marks read; no read.updated comes for that). Forward only, so a list or an event
// older than what was seen cannot move a receipt back. Pure, like read-state.
import type { Conversation, FeedEvent } from "../types";
import { isAfter } from "./read-state";

/** Per conversation, per other member: the newest message id they have read. */
export type Receipts = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The receipts after one event; the same map when nothing changed. */
export function applyReceipt(receipts: Receipts, event: FeedEvent, myId: string): Receipts {
  switch (event.type) {
    case "read.updated":
      if (event.userId === myId || event.lastReadMessageId === null) return receipts;
      return moveForward(receipts, event.conversationId, event.userId, event.lastReadMessageId);
    case "message.created":
      if (event.message.senderId === myId) return receipts;
      return moveForward(receipts, event.message.conversationId, event.message.senderId, event.message.id);
    case "conversation.removed": {
      if (!receipts.has(event.conversationId)) return receipts;
      const next = new Map(receipts);
      next.delete(event.conversationId);
      return next;
    }
    case "conversation.updated":
      return withMembers(receipts, event.conversation, myId);
    case "message.updated":
    case "typing":
    case "presence":
      return receipts;
  }
}

/** The receipts with the pointers a loaded conversation's members carry. */
export function withMembers(receipts: Receipts, conversation: Conversation, myId: string): Receipts {
  let next = receipts;
  for (const member of conversation.members) {
    if (member.id !== myId && member.lastReadMessageId !== null) next = moveForward(next, conversation.id, member.id, member.lastReadMessageId);
  }
  return next;
}

/** The newest message `userId` is known to have read in a conversation, or null. */
export function readBy(receipts: Receipts, conversationId: string, userId: string): string | null {
  return receipts.get(conversationId)?.get(userId) ?? null;
}

function moveForward(receipts: Receipts, conversationId: string, userId: string, messageId: string): Receipts {
  const users = receipts.get(conversationId);
  if (!isAfter(messageId, users?.get(userId) ?? null)) return receipts;
  return new Map(receipts).set(conversationId, new Map(users ?? []).set(userId, messageId));
}
