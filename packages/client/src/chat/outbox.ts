// Optimistic sends. A message is shown at once as pending, sent with a clientMessageId chosen here,
// and retried with the same id after a transient failure - the server stores a (sender,
// clientMessageId) pair once, so a retry can never make it appear twice. Pure functions over an
// immutable list, in the order messages were written.
import type { Attachment, Message } from "../types";

export type OutboxStatus = "pending" | "sent" | "failed";

export interface OutboxEntry {
  clientMessageId: string;
  conversationId: string;
  /** A reply: its thread's root message id (absent or null: the main list). */
  threadId?: string | null;
  senderId: string;
  content: string;
  /** Files uploaded for it, sent as attachmentIds (a retry sends the same ones, with the same clientMessageId). */
  attachments?: readonly Attachment[];
  /** Local time of writing, shown until the server's time is known. */
  createdAt: string;
  status: OutboxStatus;
  /** A request for it is on its way. */
  inFlight: boolean;
  /** Transient failures since it was written or last retried by hand. */
  attempts: number;
  /** A pending entry that failed for a transient reason waits until then (local ms), or a reconnect. */
  retryAt: number | null;
  /** Why a failed entry was not sent, in words for people. */
  error: string | null;
  /** The stored message, once sent. */
  message: Message | null;
}

export type Outbox = readonly OutboxEntry[];

export interface Draft {
  clientMessageId: string;
  conversationId: string;
  threadId?: string | null;
  senderId: string;
  content: string;
  attachments?: readonly Attachment[];
  createdAt: string;
}

/** What is kept of an unsent message across a reload: the draft, and why it failed if it did. */
export interface StoredEntry extends Draft {
  error: string | null;
}

export function toStored(entry: OutboxEntry): StoredEntry {
  const { clientMessageId, conversationId, threadId, senderId, content, attachments, createdAt, error } = entry;
  return {
    clientMessageId,
    conversationId,
    ...(threadId ? { threadId } : {}),
    senderId,
    content,
    ...(attachments && attachments.length > 0 ? { attachments } : {}),
    createdAt,
    error: entry.status === "failed" ? error : null,
  };
}

/**
 * Entries kept from an earlier page or run, after what is already here. One that had been refused
 * stays failed (the person decides); the others are sent again with the same clientMessageId.
 */
export function restore(outbox: Outbox, stored: readonly StoredEntry[]): Outbox {
  let next = outbox;
  for (const { error, ...draft } of stored) {
    const added = enqueue(next, draft);
    next = error === null ? added : reject(added, draft.clientMessageId, error);
  }
  return next;
}

export function enqueue(outbox: Outbox, draft: Draft): Outbox {
  if (outbox.some((e) => e.clientMessageId === draft.clientMessageId)) return outbox;
  return [...outbox, { ...draft, status: "pending", inFlight: false, attempts: 0, retryAt: null, error: null, message: null }];
}

function update(outbox: Outbox, clientMessageId: string, change: (entry: OutboxEntry) => OutboxEntry | null): Outbox {
  let changed = false;
  const next = outbox.map((entry) => {
    if (entry.clientMessageId !== clientMessageId) return entry;
    const updated = change(entry);
    if (updated === null || updated === entry) return entry;
    changed = true;
    return updated;
  });
  return changed ? next : outbox;
}

export function startAttempt(outbox: Outbox, clientMessageId: string): Outbox {
  return update(outbox, clientMessageId, (e) => (e.status === "pending" && !e.inFlight ? { ...e, inFlight: true, retryAt: null } : null));
}

/**
 * The server stored it: from the send's response, or from the live stream when the response was
 * lost (the stream also carries one's own messages). Matching is by sender and clientMessageId.
 */
export function confirm(outbox: Outbox, message: Message): Outbox {
  const entry = outbox.find((e) => e.clientMessageId === message.clientMessageId && e.senderId === message.senderId);
  if (!entry || entry.status === "sent") return outbox;
  return update(outbox, entry.clientMessageId, (e) => ({ ...e, status: "sent", inFlight: false, retryAt: null, error: null, message }));
}

/**
 * The request failed on the way (offline, server restarting, too many at once): try again later,
 * and at once when the connection is back. However long it takes, it is never given up: being
 * offline is not a reason the person has to act on.
 */
export function failTransiently(outbox: Outbox, clientMessageId: string, opts: { now: number; delayMs: number }): Outbox {
  return update(outbox, clientMessageId, (e) =>
    e.status === "pending" ? { ...e, inFlight: false, attempts: e.attempts + 1, retryAt: opts.now + opts.delayMs } : null,
  );
}

/** Pending, not on its way, after at least one failed attempt: waiting for the connection. */
export function isWaiting(entry: OutboxEntry): boolean {
  return entry.status === "pending" && !entry.inFlight && entry.attempts > 0;
}

/** The server refused it (too long, not a member, too many): retrying as is would not help. */
export function reject(outbox: Outbox, clientMessageId: string, reason: string): Outbox {
  return update(outbox, clientMessageId, (e) =>
    e.status === "pending" ? { ...e, inFlight: false, retryAt: null, status: "failed", error: reason } : null,
  );
}

/** The person asked to try a failed message again. */
export function retry(outbox: Outbox, clientMessageId: string): Outbox {
  return update(outbox, clientMessageId, (e) =>
    e.status === "failed" ? { ...e, status: "pending", attempts: 0, retryAt: null, error: null } : null,
  );
}

/** The connection is back: waiting entries need not wait for their timers. */
export function wake(outbox: Outbox): Outbox {
  if (!outbox.some((e) => e.status === "pending" && e.retryAt !== null)) return outbox;
  return outbox.map((e) => (e.status === "pending" && e.retryAt !== null ? { ...e, retryAt: null } : e));
}

export function discard(outbox: Outbox, clientMessageId: string): Outbox {
  return outbox.filter((e) => e.clientMessageId !== clientMessageId);
}

/** Drops sent entries, once their messages are kept elsewhere. */
export function withoutSent(outbox: Outbox): Outbox {
  return outbox.some((e) => e.status === "sent") ? outbox.filter((e) => e.status !== "sent") : outbox;
}

/**
 * The entries to send now. Per conversation only the oldest unsent one may be on its way, so that
 * messages are stored in the order they were written; a failed one does not hold the others back.
 */
export function dueForSending(outbox: Outbox, now: number): OutboxEntry[] {
  const blocked = new Set<string>();
  const due: OutboxEntry[] = [];
  for (const entry of outbox) {
    if (entry.status !== "pending" || blocked.has(entry.conversationId)) continue;
    blocked.add(entry.conversationId);
    if (!entry.inFlight && (entry.retryAt === null || entry.retryAt <= now)) due.push(entry);
  }
  return due;
}

/** When the next waiting entry becomes due (local ms), or null when none waits. */
export function nextRetryAt(outbox: Outbox): number | null {
  let next: number | null = null;
  for (const e of outbox) {
    if (e.status === "pending" && !e.inFlight && e.retryAt !== null && (next === null || e.retryAt < next)) next = e.retryAt;
  }
  return next;
}
