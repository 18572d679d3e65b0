import type { EventBus, ParleyEvent } from "./event-bus.js";
import { MessageQueue } from "./message-queue.js";

/**
 * Routes published messages to the live subscriptions of this instance, by recipient: a message
 * touches only the queues of its conversation's members, so its cost does not grow with the number
 * of other people connected.
 */
export class LiveHub {
  private readonly queuesByUser = new Map<string, Set<MessageQueue>>();
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus) {
    this.unsubscribe = bus.subscribe((event) => this.dispatch(event));
  }

  /** Starts collecting the user's messages. Call close() on the queue when done. */
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

  /** Live subscriptions on this instance. */
  get subscriptionCount(): number {
    let count = 0;
    for (const queues of this.queuesByUser.values()) count += queues.size;
    return count;
  }

  close(): void {
    this.unsubscribe();
    for (const queues of this.queuesByUser.values()) for (const queue of queues) queue.close();
    this.queuesByUser.clear();
  }

  private dispatch(event: ParleyEvent): void {
    if (event.type !== "message") return;
    for (const userId of event.recipientIds) {
      const queues = this.queuesByUser.get(userId);
      if (queues) for (const queue of queues) queue.push(event.message);
    }
  }
}
