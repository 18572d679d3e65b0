import type { Database, NewMessage } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import type { MessageDto } from "../schemas.js";
import { toMessageDto } from "./selects.js";

export type Written =
  /** Stored now. */
  | { status: "created"; message: MessageDto }
  /** The sender's clientMessageId was already stored: a retry, answered with the stored message. */
  | { status: "duplicate"; message: MessageDto }
  /** The sender is no longer a member: nothing stored. */
  | { status: "not_member" };

interface Pending {
  message: NewMessage;
  resolve(written: Written): void;
  reject(error: unknown): void;
}

/** Messages stored in one transaction at most. */
const MAX_BATCH = 100;

/**
 * Stores messages and publishes them, each with the id of the event stored before it.
 *
 * Ids must become visible in increasing order - a reader that has seen id N must never later find
 * a new event below N - because they are the resume cursor. Writes are therefore serialized:
 * within an instance one batch at a time, and on PostgreSQL across instances by a
 * transaction-scoped advisory lock taken before the ids are drawn, so commit order equals id
 * order (db.messages.insert). SQLite is written by one process, whose own serialization suffices.
 *
 * Sends that arrive in the same turn of the event loop, or while a batch is being stored, are
 * stored together in one transaction (group commit): under load the cost of a commit is shared.
 */
export class MessageWriter {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
  ) {}

  /** Stores the message (or finds the one already stored under its clientMessageId) and publishes a new one. */
  write(message: NewMessage): Promise<Written> {
    return new Promise<Written>((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.flushing) {
        // Gather what arrives in the same turn of the event loop (frames read from many sockets
        // at once) into the first batch; later arrivals wait for the batch being stored.
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await this.storeBatch(batch);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }

  private async storeBatch(batch: Pending[]): Promise<void> {
    const { results, prevId: before } = await this.db.messages.insert(batch.map((p) => p.message));
    let prevId = before;
    const published: Promise<void>[] = [];
    const written = results.map((result): Written => {
      if (result.status === "not_member") return result;
      const message = toMessageDto(result.message);
      if (result.status === "created") {
        const entry = { kind: "message.created" as const, id: message.id, message };
        published.push(this.bus.publish({ type: "entry", entry, recipientIds: result.recipientIds, prevId: prevId.toString() }).catch(this.onPublishError));
        prevId = result.message.id;
      }
      return { status: result.status, message };
    });
    // Stored means sent, even if publishing failed: receivers fill the gap from the database.
    await Promise.all(published);
    for (const [i, pending] of batch.entries()) pending.resolve(written[i] as Written);
  }
}
