import type { EventBus, FeedEntryEvent, ParleyEvent } from "./event-bus.js";
import type { EphemeralEvent } from "./ephemeral.js";
import type { FeedEntry } from "./feed.js";
import { MessageQueue } from "./message-queue.js";

/** Where the hub reads events it did not receive from the bus. */
export interface FeedLog {
  /** The id of the newest stored event (0 when there is none). */
  latestId(): Promise<bigint>;
  /**
   * Stored events with an id above `afterId`, oldest first, with their recipients (the members at
   * each event). At most `limit` log rows are read; `lastId` is the newest of them, so a caller
   * pages on from there even when some rows had nothing left to deliver.
   */
  after(afterId: bigint, limit: number): Promise<{ entries: { entry: FeedEntry; recipientIds: string[]; committedAt?: number }[]; lastId: bigint; rows: number }>;
}

const CATCH_UP_PAGE = 500;
/** How long an out-of-order event waits for the ones before it before the gap is read from the database. */
const GAP_WAIT_MS = 50;

/**
 * Routes stored events to this instance's live subscriptions, in id order, each once.
 *
 * Events arrive from the bus; each names the event stored before it (`prevId`). The hub delivers
 * an event when it follows the last one delivered, holds it when something is missing, and reads
 * the missing events from the database when they do not arrive in time (an event with a lower id is
 * always committed before a higher one is published, so the database has them). After the bus
 * reconnects ("resync") it reads everything after the last delivered id. An event reaches only the
 * queues of its recipients - the conversation's members when it happened, named by the writer - so
 * its cost does not grow with other people connected, and membership changes take effect exactly
 * at their place in the order.
 */
export class LiveHub {
  private readonly queuesByUser = new Map<string, Set<MessageQueue>>();
  private readonly waiting = new Map<string, FeedEntryEvent>();
  private lastId = 0n;
  private catchingUp: Promise<void> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  /** Failed database reads in a row: the retry backs off while the database is down. */
  private failures = 0;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly log: FeedLog,
    private readonly onError: (error: unknown) => void = () => undefined,
    /** Called for every entry delivered, in order, before any queue has it (the membership cache listens). */
    private readonly onEntry: (entry: FeedEntry) => void = () => undefined,
  ) {
    this.unsubscribe = bus.subscribe((event) => this.receive(event));
  }

  /** Starts after the newest stored event: earlier ones are for backfill, not live delivery. */
  async start(): Promise<void> {
    this.lastId = await this.log.latestId();
  }

  /** Starts collecting the user's events. Hand the queue back to release() when done. */
  open(userId: string, options: { ephemeral?: boolean } = {}): MessageQueue {
    const queue = new MessageQueue(options.ephemeral ?? false);
    let queues = this.queuesByUser.get(userId);
    if (!queues) {
      queues = new Set();
      this.queuesByUser.set(userId, queues);
    }
    queues.add(queue);
    return queue;
  }

  /** Hands typing or presence to the users' subscriptions that want it, on this instance. */
  deliverEphemeral(userIds: Iterable<string>, event: EphemeralEvent): void {
    const item = { kind: "ephemeral" as const, event };
    for (const userId of userIds) {
      const queues = this.queuesByUser.get(userId);
      if (queues) for (const queue of queues) if (queue.ephemeral) queue.push(item);
    }
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
   * release()d, so one per running message.live or sync.events. It rises once the subscription's procedure has
   * run (a message stored from then on reaches it) and falls when the subscription is given back,
   * however it ended: unsubscribed, socket closed, session revoked, token expired; close() sets it
   * to 0. Metrics show it (read when scraped: it walks the users); tests read it to wait until a
   * subscription is in place (test/harness.ts waitForSubscribers) and to check that every one was
   * released. A subscription refused before open() (too many per connection, bad token) never counts.
   */
  get subscriptionCount(): number {
    let count = 0;
    for (const queues of this.queuesByUser.values()) count += queues.size;
    return count;
  }

  /** The id of the last event delivered. */
  get lastDeliveredId(): bigint {
    return this.lastId;
  }

  /** Reads and delivers every stored event after the last one delivered (after a reconnect, or as a safety net). */
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
    if (event.type !== "entry") return;
    if (BigInt(event.entry.id) <= this.lastId) return;
    if (this.catchingUp === null && event.prevId === this.lastId.toString()) {
      this.deliver(event.entry, event.recipientIds, event.committedAt);
      this.deliverWaiting();
      return;
    }
    this.waiting.set(event.prevId, event);
    this.scheduleGapFill();
  }

  /** `committedAt`: when its transaction committed (ms since the epoch); unknown, from now. */
  private deliver(entry: FeedEntry, recipientIds: readonly string[], committedAt = Date.now()): void {
    this.lastId = BigInt(entry.id);
    this.onEntry(entry);
    for (const userId of recipientIds) {
      const queues = this.queuesByUser.get(userId);
      if (queues) for (const queue of queues) queue.push(entry, committedAt);
    }
  }

  /** Delivers held events that now follow on, and drops those already delivered from the database. */
  private deliverWaiting(): void {
    for (let next = this.waiting.get(this.lastId.toString()); next; next = this.waiting.get(this.lastId.toString())) {
      this.waiting.delete(next.prevId);
      this.deliver(next.entry, next.recipientIds, next.committedAt);
    }
    for (const [prevId, event] of this.waiting) {
      if (BigInt(event.entry.id) <= this.lastId) this.waiting.delete(prevId);
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
        for (const { entry, recipientIds, committedAt } of page.entries) {
          if (BigInt(entry.id) > this.lastId) this.deliver(entry, recipientIds, committedAt);
        }
        // Rows with nothing left to deliver (a message deleted since) still count as passed.
        if (page.lastId > this.lastId) this.lastId = page.lastId;
        this.deliverWaiting();
        this.failures = 0;
        if (page.rows < CATCH_UP_PAGE || this.closed) return;
      }
    } catch (error) {
      this.failures += 1;
      // The database is unavailable: the held events wait, and the next gap fill or catch-up retries.
      this.onError(error);
    }
  }
}
