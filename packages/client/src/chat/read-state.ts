// The reader's conversations and their read state, kept from sync.events by the rules of
// docs/contract-changes.md ("The event feed, membership and read state"). Pure functions over an
// immutable map, so the store can replace it and React keeps what did not change.
//
// The rules must hold when an event is applied on top of a `conversation.list` that already
// includes it (the start-up overlap: subscribe, load the list, then apply what arrived meanwhile),
// so each absolute value is applied only when it is news:
// - `conversation.updated` sets everything for a conversation not known yet, and only membership
//   (members, roles, title) for one known: its read fields are at most as new as what we have;
// - the reader's own `read.updated` sets the read fields only when its pointer is ahead;
// - a `message.created` at or below `countedThrough` was counted already: the last message of the
//   list, or the id of the event whose absolute counts we took (a replayed `conversation.updated`
//   shows the conversation's last message as it is now, later than its counts, so that one cannot
//   serve), or the last message counted since;
// - the reader's own `read.updated` at an unchanged pointer is a recount (a delete or an edit of a
//   message unread for them); its counts are taken when its id is after `countedThrough`.
// `message.updated` carries no counts (the recount comes as its own event); it only replaces the
// conversation's last message when it is that one, so the preview shows the edit or the deletion.
import type { Conversation, FeedEvent, Message } from "../types";
import { compareIds, newer } from "./timeline";

/** A conversation as the reader knows it, with how far its counts go. */
export interface KnownConversation extends Conversation {
  /** Messages up to this id are in the counts (null: none yet). */
  countedThrough: string | null;
}

export type Conversations = ReadonlyMap<string, KnownConversation>;

/** The conversations of a `conversation.list` load: counts as at the load, through each last message. */
export function fromList(list: readonly Conversation[]): Conversations {
  return new Map(list.map((c) => [c.id, { ...c, countedThrough: c.lastMessage?.id ?? null }]));
}

/** `a` is after `b` in the one order of ids; nothing (null) is before everything. */
export function isAfter(a: string | null, b: string | null): boolean {
  if (a === null) return false;
  return b === null || compareIds(a, b) > 0;
}

/** The conversations after one stored event (`eventId`: its id); the same map when nothing changed. */
export function applyReadEvent(conversations: Conversations, event: FeedEvent, eventId: string | null, myId: string): Conversations {
  switch (event.type) {
    case "conversation.updated": {
      const incoming = event.conversation;
      const known = conversations.get(incoming.id);
      const next: KnownConversation = known
        ? {
            ...incoming,
            lastMessage: newer(known.lastMessage, incoming.lastMessage),
            lastReadMessageId: known.lastReadMessageId,
            unreadCount: known.unreadCount,
            mentionCount: known.mentionCount,
            countedThrough: known.countedThrough,
          }
        : { ...incoming, countedThrough: eventId };
      return new Map(conversations).set(incoming.id, next);
    }
    case "conversation.removed": {
      if (!conversations.has(event.conversationId)) return conversations;
      const next = new Map(conversations);
      next.delete(event.conversationId);
      return next;
    }
    case "read.updated": {
      const known = conversations.get(event.conversationId);
      // Someone else's receipt carries no counts; ours moves the pointer only forward, or recounts
      // at the same pointer (a message that was unread was deleted, or an edit changed a mention):
      // taken when it is later than what the counts already include.
      if (!known || event.userId !== myId) return conversations;
      const ahead = isAfter(event.lastReadMessageId, known.lastReadMessageId);
      const recount = event.lastReadMessageId === known.lastReadMessageId && isAfter(eventId, known.countedThrough);
      if (!ahead && !recount) return conversations;
      return new Map(conversations).set(known.id, {
        ...known,
        lastReadMessageId: event.lastReadMessageId,
        unreadCount: event.unreadCount ?? known.unreadCount,
        mentionCount: event.mentionCount ?? known.mentionCount,
        countedThrough: later(known.countedThrough, eventId),
      });
    }
    case "message.created":
      return applyMessage(conversations, event.message, myId);
    case "message.updated": {
      // An edit, a delete, reactions or a reply count: the preview follows when it is the last message.
      const known = conversations.get(event.message.conversationId);
      if (!known || known.lastMessage?.id !== event.message.id) return conversations;
      return new Map(conversations).set(known.id, { ...known, lastMessage: event.message });
    }
    case "typing":
    case "presence":
      return conversations;
  }
}

function applyMessage(conversations: Conversations, message: Message, myId: string): Conversations {
  const known = conversations.get(message.conversationId);
  // Unknown: its conversation.updated (or the list) brings the counts. Known up to here: counted.
  if (!known || !isAfter(message.id, known.countedThrough)) return conversations;
  let next: KnownConversation = { ...known, lastMessage: newer(known.lastMessage, message), countedThrough: message.id };
  if (message.senderId === myId) {
    // Sending marks read: no separate read.updated comes for it.
    next = { ...next, lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 };
  } else if (isAfter(message.id, known.lastReadMessageId)) {
    next = {
      ...next,
      unreadCount: known.unreadCount + 1,
      mentionCount: known.mentionCount + (message.mentions.includes(myId) ? 1 : 0),
    };
  }
  return new Map(conversations).set(known.id, next);
}

function later(a: string | null, b: string | null): string | null {
  return isAfter(b, a) ? b : a;
}

/** Whether marking `messageId` read would move the pointer (else the server would change nothing). */
export function isAheadOfPointer(conversations: Conversations, conversationId: string, messageId: string): boolean {
  const known = conversations.get(conversationId);
  return known ? isAfter(messageId, known.lastReadMessageId) : false;
}
