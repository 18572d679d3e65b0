import type { EphemeralEvent } from "./ephemeral.js";
import type { FeedEntry } from "./feed.js";

/** What a live subscription receives: stored events, and (if it asked) typing and presence. */
export type QueueItem = FeedEntry | { kind: "ephemeral"; event: EphemeralEvent };

/** Receives a subscription's items as they are pushed, once it has taken the queue over (`consumeWith`). */
export type QueueConsumer = (item: QueueItem, committedAt: number) => void;

/**
 * The events waiting for one live subscription. Entries are pushed as they are published and
 * taken by the subscription's generator; a plain array and one pending promise keep it small
 * (Node's events.on() iterator cost about 36 KB per subscription). A subscription that writes its
 * own frames takes the queue over instead (`consumeWith`): from then on each push is handed to it
 * at once, in the publisher's turn, with no promise or generator step per event.
 */
export class MessageQueue {
  /** @param ephemeral whether typing and presence events are wanted (sync.events) or not (message.live). */
  constructor(readonly ephemeral: boolean) {}

  private items: QueueItem[] = [];
  /** When each item's event committed (ms since the epoch; 0 for typing and presence), by position. */
  private committedAt: number[] = [];
  private taken: number[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private consumer: QueueConsumer | null = null;
  private consumerError: unknown = undefined;

  push(entry: QueueItem, committedAt = 0): void {
    if (this.closed) return;
    if (this.consumer !== null) {
      try {
        this.consumer(entry, committedAt);
      } catch (error) {
        // The publisher goes on to the other recipients; this subscription ends with the error.
        this.consumerError = error;
        this.close();
      }
      return;
    }
    this.items.push(entry);
    this.committedAt.push(committedAt);
    this.wake?.();
  }

  /** When the events of the last take() committed, by their position in it (delivery lag, metrics). */
  get takenCommittedAt(): readonly number[] {
    return this.taken;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** Closes the queue when the signal aborts: one listener for the queue's life, not one per wait. */
  closeOn(signal: AbortSignal | undefined): void {
    if (!signal) return;
    if (signal.aborted) this.close();
    else signal.addEventListener("abort", () => this.close(), { once: true });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Hands everything queued so far to `consumer`, then every later push as it happens, until the
   * queue closes; resolves then, or rejects with what the consumer threw. take() is not used after.
   */
  async consumeWith(consumer: QueueConsumer): Promise<void> {
    const items = this.items;
    const committedAt = this.committedAt;
    this.items = [];
    this.committedAt = [];
    this.consumer = consumer;
    items.forEach((item, index) => this.push(item, committedAt[index]));
    // Nothing is queued any more: take() returns only when the queue closes (its signal, or release).
    while (!this.closed) await this.take();
    this.consumer = null;
    if (this.consumerError !== undefined) throw this.consumerError;
  }

  /** Everything queued so far, or - if nothing is - waits for the next push, the close or the abort. */
  async take(signal?: AbortSignal): Promise<QueueItem[]> {
    while (this.items.length === 0 && !this.closed && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake = null;
          signal?.removeEventListener("abort", done);
          resolve();
        };
        this.wake = done;
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: done() removes the listener itself, so "once" only says it twice
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    const taken = this.items;
    this.items = [];
    this.taken = this.committedAt;
    this.committedAt = [];
    return taken;
  }
}
