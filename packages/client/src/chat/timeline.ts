// One conversation's messages as shown: history pages, live messages and one's own unsent ones,
// merged into one list with each message exactly once. Stored messages are keyed by id (which grows
// in storage order); one's own are also matched by clientMessageId, so an optimistic entry and the
// stored message it became are never shown side by side.
import { isWaiting, type OutboxEntry } from "./outbox";
import type { Attachment, Message } from "../types";

export type TimelineStatus = "sent" | "pending" | "failed";

export interface TimelineItem {
  /** Stable across the pending -> sent transition, so the row is not re-created. */
  key: string;
  /** The stored id; null while not stored. */
  id: string | null;
  senderId: string;
  content: string;
  /** The stored message's files, or those an unsent one carries. */
  attachments: readonly Attachment[];
  clientMessageId: string;
  createdAt: string;
  status: TimelineStatus;
  /** Pending after a failed attempt: waiting for the connection (or the server's "not so fast"). */
  waiting: boolean;
  error: string | null;
  /** The stored message as last known (edits, deletion, reactions, replies applied); null while not stored. */
  message: Message | null;
}

/** Compares two message ids (decimal strings of any length) numerically. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function newer(a: Message | null | undefined, b: Message | null | undefined): Message | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return compareIds(a.id, b.id) >= 0 ? a : b;
}

/** Inserts a message into a list sorted by id; returns the same list when it is there already. */
export function insertMessage(list: readonly Message[], message: Message): readonly Message[] {
  let index = list.length;
  while (index > 0) {
    const order = compareIds((list[index - 1] as Message).id, message.id);
    if (order === 0) return list;
    if (order < 0) break;
    index -= 1;
  }
  return [...list.slice(0, index), message, ...list.slice(index)];
}

export function clientKey(senderId: string, clientMessageId: string): string {
  return `${senderId}:${clientMessageId}`;
}

export interface TimelineSources {
  /** Pages of message.list in any order, each oldest first. */
  pages: readonly (readonly Message[])[];
  /** Messages from the live stream (and confirmed sends), in any order. */
  live: readonly Message[];
  /** Own optimistic sends of this conversation, in the order written. */
  outbox: readonly OutboxEntry[];
  /** Messages changed since they were loaded (message.updated), by id: they replace what the pages hold. */
  changed?: ReadonlyMap<string, Message>;
  /** Which messages: a thread's replies (its root's id), or the main list's (null, the default). */
  threadId?: string | null;
}

/** A message as last known: its changed version when there is one. */
export function latestVersion(message: Message, changed: ReadonlyMap<string, Message> | undefined): Message {
  return changed?.get(message.id) ?? message;
}

export function buildTimeline({ pages, live, outbox, changed, threadId = null }: TimelineSources): TimelineItem[] {
  const byId = new Map<string, Message>();
  const add = (m: Message) => {
    if (!byId.has(m.id) && (m.threadId ?? null) === threadId) byId.set(m.id, latestVersion(m, changed));
  };
  for (const page of pages) for (const m of page) add(m);
  for (const m of live) add(m);
  for (const e of outbox) if (e.message) add(e.message);

  const stored = [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
  const storedKeys = new Set(stored.map((m) => clientKey(m.senderId, m.clientMessageId)));
  const items: TimelineItem[] = stored.map((m) => ({
    key: clientKey(m.senderId, m.clientMessageId),
    id: m.id,
    senderId: m.senderId,
    content: m.content,
    attachments: m.attachments,
    clientMessageId: m.clientMessageId,
    createdAt: m.createdAt,
    status: "sent",
    waiting: false,
    error: null,
    message: m,
  }));
  for (const e of outbox) {
    const key = clientKey(e.senderId, e.clientMessageId);
    if (e.status === "sent" || storedKeys.has(key) || (e.threadId ?? null) !== threadId) continue;
    items.push({
      key,
      id: null,
      senderId: e.senderId,
      content: e.content,
      attachments: e.attachments ?? [],
      clientMessageId: e.clientMessageId,
      createdAt: e.createdAt,
      status: e.status,
      waiting: isWaiting(e),
      error: e.error,
      message: null,
    });
  }
  return items;
}
