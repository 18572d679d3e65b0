import type { FeedEntry } from "./feed.js";
import type { PresenceBusEvent, TypingBusEvent } from "./ephemeral.js";

/** An event of the log, with the members it must reach: the conversation's members when it happened. */
export interface FeedEntryEvent {
  type: "entry";
  entry: FeedEntry;
  recipientIds: string[];
  /**
   * The id of the event stored just before this one, across all conversations ("0" for none).
   * Events can arrive out of order or not at all (Redis pub/sub is at most once); this link lets a
   * receiver notice and fill the gap from the database.
   */
  prevId: string;
  /**
   * When the transaction that stored it committed, in milliseconds since the epoch on the clock of
   * the instance that committed it: live delivery lag is measured from here (metrics). Absent from
   * events of instances that did not send it; the receiving hub then counts from their arrival.
   */
  committedAt?: number;
}

/** Something every instance must hear about. */
export type ParleyEvent =
  | FeedEntryEvent
  /** A login session was ended (logout or refresh-token reuse): its access tokens stop working. */
  | { type: "session-revoked"; sessionId: string; expiresAt: number }
  /**
   * An admin deactivated a user: their access tokens stop working (those of `sessionIds` even after a
   * reactivation) until `expiresAt`, when every token that could have been live has expired.
   */
  | { type: "user-deactivated"; userId: string; sessionIds: string[]; expiresAt: number }
  /** An admin reactivated a user: tokens of the sessions they log in to from now on work again. */
  | { type: "user-reactivated"; userId: string }
  /** Ephemeral live state (live/typing.ts, live/presence.ts): never stored, lost with the link. */
  | TypingBusEvent
  | PresenceBusEvent
  /** Raised locally by a bus that may have missed events (its connection dropped and came back). */
  | { type: "resync" };

export type EventListener = (event: ParleyEvent) => void;

/**
 * Carries events from the instance that caused them to every instance. The in-process bus is the
 * default; the Redis bus fans out across instances.
 */
export interface EventBus {
  publish(event: ParleyEvent): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void;
  /** "up" or "down", for /healthz; null for a bus with nothing that can fail. */
  status(): { name: string; up: boolean } | null;
  close(): Promise<void>;
}

/** The bus of a single instance: publish calls every listener synchronously, in order. */
export class InProcessEventBus implements EventBus {
  private readonly listeners = new Set<EventListener>();

  publish(event: ParleyEvent): Promise<void> {
    for (const listener of this.listeners) listener(event);
    return Promise.resolve();
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): null {
    return null;
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
