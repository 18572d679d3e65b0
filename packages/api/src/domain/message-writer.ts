import type { AttachmentProblem, Database, NewMessage } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import { noMetrics, type Metrics } from "../metrics.js";
import type { MessageDto } from "../schemas.js";
import { COMMIT_INTERVAL_MS, GroupCommit } from "./group-commit.js";
import { toMessageDto } from "./selects.js";

export type Written =
  /** Stored now. */
  | { status: "created"; message: MessageDto }
  /** The sender's clientMessageId was already stored: a retry, answered with the stored message. */
  | { status: "duplicate"; message: MessageDto }
  /** The sender is no longer a member: nothing stored. */
  | { status: "not_member" }
  /** An attachment id names no upload, or one this message cannot take: nothing stored. */
  | { status: "bad_attachment"; attachmentId: string; problem: AttachmentProblem };

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
 * stored together in one transaction (GroupCommit): under load the cost of a commit is shared.
 */
export class MessageWriter {
  private readonly batches: GroupCommit<NewMessage, Written>;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.batches = new GroupCommit((batch) => this.storeBatch(batch), MAX_BATCH, COMMIT_INTERVAL_MS, metrics.batchSizes("messages"));
  }

  /** Stores the message (or finds the one already stored under its clientMessageId) and publishes a new one. */
  write(message: NewMessage): Promise<Written> {
    return this.batches.submit(message);
  }

  private async storeBatch(batch: readonly NewMessage[]): Promise<Written[]> {
    const { results, prevId: before } = await this.db.messages.insert(batch);
    const committedAt = Date.now();
    let prevId = before;
    const published: Promise<void>[] = [];
    const written = results.map((result): Written => {
      if (result.status === "not_member" || result.status === "bad_attachment") return result;
      const message = toMessageDto(result.message);
      if (result.status === "created") {
        const entry = { kind: "message.created" as const, id: message.id, message };
        published.push(this.bus.publish({ type: "entry", entry, recipientIds: result.recipientIds, prevId: prevId.toString(), committedAt }).catch(this.onPublishError));
        prevId = result.message.id;
      }
      return { status: result.status, message };
    });
    this.metrics.eventsCommitted(published.length);
    // Stored means sent, even if publishing failed: receivers fill the gap from the database.
    await Promise.all(published);
    return written;
  }
}
