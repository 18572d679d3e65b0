import { Redis } from "ioredis";
import type { EventBus, EventListener, ParleyEvent } from "./event-bus.js";

export interface RedisBusOptions {
  /** The pub/sub channel; instances that share it see each other's events. */
  channel?: string;
  /** Told when a connection drops or an event cannot be parsed. */
  onError?: (error: unknown) => void;
}

/**
 * Fans events out to every instance through Redis pub/sub. Pub/sub delivers at most once, so it is
 * only the fast path: when the subscriber connection comes back after a drop, listeners get a
 * "resync" event and fill what they missed from the database, which stays the source of truth.
 * Publishing while Redis is unreachable fails at once (no offline queue), so a send never waits
 * for Redis; the message is stored, and receivers catch up.
 */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly listeners = new Set<EventListener>();
  private readonly channel: string;
  private subscribed = false;

  constructor(url: string, options: RedisBusOptions = {}) {
    this.channel = options.channel ?? "parley:events";
    const onError = options.onError ?? (() => undefined);
    const common = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Reconnect quickly at first, then every 2 s at most, forever.
      // Stryker disable next-line MethodExpression,ArithmeticOperator: timing only - the delay between reconnects
      retryStrategy: (attempt: number) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)),
    };
    this.publisher = new Redis(url, { ...common, connectionName: "parley-publisher" });
    // Stryker disable next-line BooleanLiteral: ioredis would SUBSCRIBE again before "ready" on its own; the ready handler below subscribes anyway, and a second SUBSCRIBE to a channel changes nothing
    this.subscriber = new Redis(url, { ...common, connectionName: "parley-subscriber", autoResubscribe: false });
    this.publisher.on("error", onError);
    this.subscriber.on("error", onError);
    this.subscriber.on("close", () => {
      this.subscribed = false;
    });
    // Each subscription follows a (re)connection: what was published while this instance was not
    // subscribed (before the first one, or since a drop) is lost, so listeners are told to resync.
    this.subscriber.on("ready", () => {
      this.subscriber.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          this.emit({ type: "resync" });
        },
        onError,
      );
    });
    this.subscriber.on("message", (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      let event: ParleyEvent;
      try {
        event = JSON.parse(raw) as ParleyEvent;
      } catch (error) {
        onError(error);
        return;
      }
      this.emit(event);
    });
  }

  /** Resolves once the subscription is in place (or rejects after timeoutMs). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.subscribed || this.publisher.status !== "ready") {
      // Stryker disable next-line EqualityOperator: timing only - the deadline's last millisecond
      if (Date.now() > deadline) throw new Error("Redis is not reachable");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async publish(event: ParleyEvent): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify(event));
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): { name: string; up: boolean } {
    return { name: "redis", up: this.subscribed && this.publisher.status === "ready" };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    // Stryker disable next-line BooleanLiteral: quitting closes the subscriber, whose close handler clears it too
    this.subscribed = false;
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
  }

  private emit(event: ParleyEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
