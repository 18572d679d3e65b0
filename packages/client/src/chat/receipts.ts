// Read receipts: how far each other member of a conversation has read, as far as this client has
// seen since it started. Someone else's `read.updated` carries their pointer (without counts), and
// their own message moves it too (sending marks read; no read.updated comes for that). A
// conversation's data holds only the reader's own pointer, so a receipt is known from the first
// such event this client receives (a resumed feed replays the ones it missed). Pure, like read-state.
import type { FeedEvent } from "../types";
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
    case "message.updated":
    case "typing":
    case "presence":
      return receipts;
  }
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
