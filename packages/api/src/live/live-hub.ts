import type { MessageDto } from "../schemas.js";
import type { EventBus, MessageCreatedEvent, ParleyEvent } from "./event-bus.js";
import { MessageQueue } from "./message-queue.js";

/** Where the hub reads messages it did not receive as events. */
export interface MessageLog {
  /** The id of the newest stored message ("0" when there is none). */
  latestId(): Promise<bigint>;
  /** Stored messages with an id above `afterId`, oldest first, at most `limit`, with their recipients. */
  after(afterId: bigint, limit: number): Promise<{ message: MessageDto; recipientIds: string[] }[]>;
}

const CATCH_UP_PAGE = 500;
/** How long an out-of-order event waits for the ones before it before the gap is read from the database. */
const GAP_WAIT_MS = 50;

/**
 * Routes stored messages to this instance's live subscriptions, in id order, each once.
 *
 * Events arrive from the bus; each names the message stored before it (`prevId`). The hub delivers
 * an event when it follows the last one delivered, holds it when something is missing, and reads
 * the missing messages from the database when they do not arrive in time (a message with a lower
 * id is always committed before a higher one is published, so the database has them). After the
 * bus reconnects ("resync") it reads everything after the last delivered id. A message reaches only
 * the queues of its conversation's members, so its cost does not grow with other people connected.
 */
export class LiveHub {
  private readonly queuesByUser = new Map<string, Set<MessageQueue>>();
  private readonly waiting = new Map<string, MessageCreatedEvent>();
  private lastId = 0n;
  private catchingUp: Promise<void> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  /** Failed database reads in a row: the retry backs off while the database is down. */
  private failures = 0;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly log: MessageLog,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.unsubscribe = bus.subscribe((event) => this.receive(event));
  }

  /** Starts after the newest stored message: earlier ones are for backfill, not live delivery. */
  async start(): Promise<void> {
    this.lastId = await this.log.latestId();
  }

  /** Starts collecting the user's messages. Hand the queue back to release() when done. */
  open(userId: string): MessageQueue {
    const queue = new MessageQueue();
    let queues = this.queuesByUser.get(userId);
    if (!queues) {
      queues = new Set();
      this.queuesByUser.set(userId, queues);
    }
    queues.add(queue);
    return queue;
  }

  release(userId: string, queue: MessageQueue): void {
    queue.close();
    const queues = this.queuesByUser.get(userId);
    if (!queues) return;
    queues.delete(queue);
    if (queues.size === 0) this.queuesByUser.delete(userId);
  }

  /**
   * Live subscriptions on this instance, all users together: queues open()ed and not yet
   * release()d, so one per running message.live. It rises once the subscription's procedure has
   * run (a message stored from then on reaches it) and falls when the subscription is given back,
   * however it ended: unsubscribed, socket closed, session revoked, token expired; close() sets it
   * to 0. Only tests read it (no endpoint shows it): to wait until a subscription is in place
   * (test/harness.ts waitForSubscribers) and to check that every one was released; a subscription
   * refused before open() (too many per connection, bad token) never counts.
   */
  get subscriptionCount(): number {
    let count = 0;
    for (const queues of this.queuesByUser.values()) count += queues.size;
    return count;
  }

  /** The id of the last message delivered. */
  get lastDeliveredId(): bigint {
    return this.lastId;
  }

  /** Reads and delivers every stored message after the last one delivered (after a reconnect, or as a safety net). */
  catchUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.catchingUp ??= this.readMissing().finally(() => {
      this.catchingUp = null;
      if (this.waiting.size > 0) this.scheduleGapFill();
    });
    return this.catchingUp;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const queues of this.queuesByUser.values()) for (const queue of queues) queue.close();
    this.queuesByUser.clear();
  }

  private receive(event: ParleyEvent): void {
    if (event.type === "resync") {
      void this.catchUp();
      return;
    }
    if (event.type !== "message") return;
    if (BigInt(event.message.id) <= this.lastId) return;
    if (this.catchingUp === null && event.prevId === this.lastId.toString()) {
      this.deliver(event.message, event.recipientIds);
      this.deliverWaiting();
      return;
    }
    this.waiting.set(event.prevId, event);
    this.scheduleGapFill();
  }

  private deliver(message: MessageDto, recipientIds: readonly string[]): void {
    this.lastId = BigInt(message.id);
    for (const userId of recipientIds) {
      const queues = this.queuesByUser.get(userId);
      if (queues) for (const queue of queues) queue.push(message);
    }
  }

  /** Delivers held events that now follow on, and drops those already delivered from the database. */
  private deliverWaiting(): void {
    for (let next = this.waiting.get(this.lastId.toString()); next; next = this.waiting.get(this.lastId.toString())) {
      this.waiting.delete(next.prevId);
      this.deliver(next.message, next.recipientIds);
    }
    for (const [prevId, event] of this.waiting) {
      if (BigInt(event.message.id) <= this.lastId) this.waiting.delete(prevId);
    }
  }

  private scheduleGapFill(): void {
    if (this.gapTimer || this.closed) return;
    const delay = this.failures === 0 ? GAP_WAIT_MS : Math.min(5_000, 100 * 2 ** this.failures);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.waiting.size > 0) void this.catchUp();
    }, delay);
    this.gapTimer.unref();
  }

  private async readMissing(): Promise<void> {
    try {
      for (;;) {
        const page = await this.log.after(this.lastId, CATCH_UP_PAGE);
        for (const { message, recipientIds } of page) {
          if (BigInt(message.id) > this.lastId) this.deliver(message, recipientIds);
        }
        this.deliverWaiting();
        this.failures = 0;
        if (page.length < CATCH_UP_PAGE || this.closed) return;
      }
    } catch (error) {
      this.failures += 1;
      // The database is unavailable: the held events wait, and the next gap fill or catch-up retries.
      this.onError(error);
    }
  }
}
