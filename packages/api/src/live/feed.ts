// The stored events of the feed as Parley carries them between the writer, the bus, the hub and the
// streams: one `FeedEntry` per event of the log, with everything needed to build each recipient's
// own view (`viewFor`) without touching the database. The log row (packages/db, model Event) names
// what changed; `data` holds the few facts that are not in other rows.
import type { LoggedEvent } from "@parley/db";
import type { ConversationDto, MessageDto, NotifyLevel, ReadStateDto, StoredEventDto } from "../schemas.js";

/** A conversation as every member sees it: the conversation without the reader's own read state and notification level. */
export type SharedConversation = Omit<ConversationDto, keyof ReadStateDto | "notify">;

export type FeedEntry =
  | { kind: "message.created"; id: string; message: MessageDto }
  | { kind: "message.updated"; id: string; message: MessageDto }
  | {
      kind: "conversation.updated";
      id: string;
      conversationId: string;
      /** null when the conversation is gone (everyone left): only its leavers still hear of it. */
      conversation: SharedConversation | null;
      /** Each member's read state at this event, so a member's view carries their own. */
      reads: Record<string, ReadStateDto>;
      /** Who stopped being a member at this event: they get `conversation.removed` instead, and nothing more. */
      removed: string[];
      /** Members whose notification level is not "all". */
      notify: Record<string, NotifyLevel>;
      /** Only these members receive it (a change of one member's own setting); null: every member. */
      to: string[] | null;
    }
  | { kind: "read.updated"; id: string; conversationId: string; userId: string; read: ReadStateDto }
  /**
   * Counts recounted for several members at once (a deleted message that was unread for them): each
   * of them receives their own `read.updated` with the new counts; nobody else receives anything.
   */
  | { kind: "read.recounted"; id: string; conversationId: string; reads: Record<string, ReadStateDto> };

/** What `Event.data` holds for a conversation event. */
export interface ConversationEventData {
  reads: Record<string, ReadStateDto>;
  removed: string[];
  added: string[];
  /** Members whose notification level is not "all" (absent in events stored before levels existed). */
  notify?: Record<string, NotifyLevel>;
  /** Only these members receive it (absent: every member). */
  to?: string[];
}

/** What `Event.data` holds for a read event of one reader (`Event.userId`). */
export type ReadEventData = ReadStateDto;

/** What `Event.data` holds for a read event without a reader: several members' recounted state. */
export interface RecountEventData {
  reads: Record<string, ReadStateDto>;
}

const NO_READ: ReadStateDto = { lastReadMessageId: null, unreadCount: 0, mentionCount: 0 };

/** A message event's view, the same for every recipient: one object per entry, so its JSON is made once per fan-out. */
const messageViews = new WeakMap<FeedEntry, StoredEventDto>();

function remember(entry: FeedEntry, view: StoredEventDto): StoredEventDto {
  messageViews.set(entry, view);
  return view;
}

/** The event as `userId` (a recipient) receives it, or null when it has nothing for them. */
export function viewFor(entry: FeedEntry, userId: string): StoredEventDto | null {
  switch (entry.kind) {
    case "message.created":
      return messageViews.get(entry) ?? remember(entry, { type: "message.created", message: entry.message });
    case "message.updated":
      return messageViews.get(entry) ?? remember(entry, { type: "message.updated", message: entry.message });
    case "conversation.updated":
      if (entry.removed.includes(userId)) return { type: "conversation.removed", conversationId: entry.conversationId };
      if (!entry.conversation) return null;
      if (entry.to && !entry.to.includes(userId)) return null;
      return { type: "conversation.updated", conversation: { ...entry.conversation, ...(entry.reads[userId] ?? NO_READ), notify: entry.notify[userId] ?? "all" } };
    case "read.updated":
      // Read receipts for the others; the counts are the reader's own business.
      return entry.userId === userId
        ? { type: "read.updated", conversationId: entry.conversationId, userId: entry.userId, ...entry.read }
        : { type: "read.updated", conversationId: entry.conversationId, userId: entry.userId, lastReadMessageId: entry.read.lastReadMessageId };
    case "read.recounted": {
      const read = entry.reads[userId];
      return read ? { type: "read.updated", conversationId: entry.conversationId, userId, ...read } : null;
    }
  }
}

/** What a log row needs from other rows to become an entry; the caller loads them in bulk. */
export interface Referents {
  messages: ReadonlyMap<string, MessageDto>;
  conversations: ReadonlyMap<string, SharedConversation>;
}

/**
 * The entry of a logged event, from the rows it names as they are now (a message edited since is
 * replayed edited; a deleted one as its tombstone). null when nothing of it is left to tell anyone
 * (its conversation is gone with its messages).
 */
export function entryOf(event: LoggedEvent, referents: Referents): FeedEntry | null {
  const id = event.id.toString();
  switch (event.kind) {
    case "message.created":
    case "message.updated": {
      const message = event.messageId === null ? undefined : referents.messages.get(event.messageId.toString());
      return message ? { kind: event.kind, id, message } : null;
    }
    case "conversation.updated": {
      const data = JSON.parse(event.data ?? "{}") as Partial<ConversationEventData>;
      return {
        kind: "conversation.updated",
        id,
        conversationId: event.conversationId,
        conversation: referents.conversations.get(event.conversationId) ?? null,
        reads: data.reads ?? {},
        removed: data.removed ?? [],
        notify: data.notify ?? {},
        to: data.to ?? null,
      };
    }
    case "read.updated": {
      if (!event.userId) {
        const data = JSON.parse(event.data ?? "{}") as Partial<RecountEventData>;
        return { kind: "read.recounted", id, conversationId: event.conversationId, reads: data.reads ?? {} };
      }
      const read = JSON.parse(event.data ?? "null") as ReadEventData | null;
      return { kind: "read.updated", id, conversationId: event.conversationId, userId: event.userId, read: read ?? NO_READ };
    }
    case "log.restored":
      // Where a restored log continues (db.events.markRestored): nothing happened to anyone.
      return null;
  }
}
