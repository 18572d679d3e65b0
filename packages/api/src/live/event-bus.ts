import type { MessageDto } from "../schemas.js";

/** Something every instance must hear about. */
export type ParleyEvent =
  /** A stored message, with the members it must reach (they do not change after creation). */
  | { type: "message"; message: MessageDto; recipientIds: string[] }
  /** A login session was ended (logout or refresh-token reuse): its access tokens stop working. */
  | { type: "session-revoked"; sessionId: string; expiresAt: number };

export type EventListener = (event: ParleyEvent) => void;

/**
 * Carries events from the instance that caused them to every instance, in publish order.
 * The in-process bus is the default; a Redis one fans out across instances.
 */
export interface EventBus {
  publish(event: ParleyEvent): Promise<void>;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void;
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

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
