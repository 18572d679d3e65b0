import type { Clock } from "../clock.js";
import type { DeliverEphemeral } from "./ephemeral.js";
import type { EventBus, ParleyEvent } from "./event-bus.js";
import { Throttle } from "./throttle.js";

/** The contract: at most one typing event per user and conversation per 2 seconds is passed on. */
export const TYPING_INTERVAL_MS = 2_000;

const keyOf = (userId: string, conversationId: string) => `${conversationId}\u0000${userId}`;

/**
 * "Someone is typing", from the typer's call to the other members' streams on every instance. It is
 * throttled twice: where it is sent, so a client calling typing.set on every keystroke costs no bus
 * message and no lookup beyond the first each 2 s; and where it is received, so the same user typing
 * in two tabs connected to two instances still reaches each member at most once per 2 s. Nothing is
 * stored: an event lost on the way is simply not shown, and the next one (or the clients' 6-second
 * expiry) corrects the picture.
 */
export class TypingService {
  private readonly sent = new Throttle(TYPING_INTERVAL_MS);
  private readonly passedOn = new Throttle(TYPING_INTERVAL_MS);
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: {
      bus: EventBus;
      clock: Clock;
      deliver: DeliverEphemeral;
      /** Told when publishing fails (the event is dropped: it would be stale by the time the bus is back). */
      onError?: (error: unknown) => void;
    },
  ) {
    this.unsubscribe = deps.bus.subscribe((event) => this.receive(event));
  }

  /**
   * `userId` is typing in a conversation whose members (read for this call, the typer among them)
   * are `memberIds`. Returns whether it was published (false: within 2 s of the last one).
   */
  set(userId: string, conversationId: string, memberIds: ReadonlySet<string>): boolean {
    const at = this.deps.clock.now().getTime();
    if (!this.sent.pass(keyOf(userId, conversationId), at)) return false;
    const recipientIds = [...memberIds].filter((id) => id !== userId);
    if (recipientIds.length === 0) return false;
    this.deps.bus.publish({ type: "typing", conversationId, userId, recipientIds, at }).catch((error: unknown) => this.deps.onError?.(error));
    return true;
  }

  close(): void {
    this.unsubscribe();
  }

  private receive(event: ParleyEvent): void {
    if (event.type !== "typing") return;
    const { conversationId, userId, recipientIds, at } = event;
    if (!this.passedOn.pass(keyOf(userId, conversationId), at)) return;
    this.deps.deliver(recipientIds, { type: "typing", conversationId, userId });
  }
}
