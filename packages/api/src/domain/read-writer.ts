import type { Database, ReadOutcome, ReadRequest, StoredReadState } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import { noMetrics, type Metrics } from "../metrics.js";
import type { ReadStateDto } from "../schemas.js";
import { COMMIT_INTERVAL_MS, GroupCommit } from "./group-commit.js";

/** Read pointers moved in one transaction at most. */
const MAX_BATCH = 200;

export const readStateDto = (state: StoredReadState): ReadStateDto => ({
  lastReadMessageId: state.lastReadMessageId?.toString() ?? null,
  unreadCount: state.unreadCount,
  mentionCount: state.mentionCount,
});

/**
 * Moves read pointers (conversation.markRead) and publishes a "read.updated" event for each that
 * moved. Every receiver of a busy room marks each message read as it sees it, so these are as many
 * as deliveries: they go through the message store's driver-level path with group commit, like
 * messages, instead of one Prisma transaction each.
 */
export class ReadWriter {
  private readonly batches: GroupCommit<ReadRequest, ReadOutcome>;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.batches = new GroupCommit((batch) => this.storeBatch(batch), MAX_BATCH, COMMIT_INTERVAL_MS, metrics.batchSizes("reads"));
  }

  mark(request: ReadRequest): Promise<ReadOutcome> {
    return this.batches.submit(request);
  }

  private async storeBatch(batch: readonly ReadRequest[]): Promise<ReadOutcome[]> {
    const { results, prevId } = await this.db.messages.markRead(batch);
    const committedAt = Date.now();
    // Requests of one member and conversation share an outcome: publish each event once, in id order.
    const moved = new Map<bigint, { request: ReadRequest; outcome: Extract<ReadOutcome, { status: "moved" }> }>();
    results.forEach((outcome, i) => {
      if (outcome.status === "moved") moved.set(outcome.eventId, { request: batch[i] as ReadRequest, outcome });
    });
    let previous = prevId;
    const published: Promise<void>[] = [];
    for (const { request, outcome } of [...moved.values()].sort((a, b) => (a.outcome.eventId < b.outcome.eventId ? -1 : 1))) {
      const entry = { kind: "read.updated" as const, id: outcome.eventId.toString(), conversationId: request.conversationId, userId: request.userId, read: readStateDto(outcome.state) };
      published.push(this.bus.publish({ type: "entry", entry, recipientIds: outcome.recipientIds, prevId: previous.toString(), committedAt }).catch(this.onPublishError));
      previous = outcome.eventId;
    }
    this.metrics.eventsCommitted(published.length);
    await Promise.all(published);
    return results;
  }
}
