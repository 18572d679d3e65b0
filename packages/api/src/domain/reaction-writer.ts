import type { Database, ReactOutcome, ReactRequest } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import { noMetrics, type Metrics } from "../metrics.js";
import { MAX_REACTIONS_PER_MESSAGE, type MessageDto } from "../schemas.js";
import { COMMIT_INTERVAL_MS, GroupCommit } from "./group-commit.js";
import { toMessageDto } from "./selects.js";

/** Reactions turned on or off in one transaction at most. */
const MAX_BATCH = 200;

export type Reacted =
  /** Changed now: the message right after this change. */
  | { status: "changed"; message: MessageDto }
  /** Already on (or off): the message as it is. */
  | { status: "unchanged"; message: MessageDto }
  | Exclude<ReactOutcome, { status: "changed" | "unchanged" }>;

/**
 * Turns reactions on and off (message.react) and publishes a "message.updated" entry for each
 * change. When every receiver of a busy room reacts to each message there are as many reactions as
 * deliveries: like read pointers they go through the message store's driver-level path with group
 * commit, instead of one Prisma transaction each under the order lock.
 */
export class ReactionWriter {
  private readonly batches: GroupCommit<ReactRequest, Reacted>;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.batches = new GroupCommit((batch) => this.storeBatch(batch), MAX_BATCH, COMMIT_INTERVAL_MS, metrics.batchSizes("reactions"));
  }

  react(request: ReactRequest): Promise<Reacted> {
    return this.batches.submit(request);
  }

  private async storeBatch(batch: readonly ReactRequest[]): Promise<Reacted[]> {
    const { results, prevId } = await this.db.messages.react(batch, MAX_REACTIONS_PER_MESSAGE);
    const committedAt = Date.now();
    // Changes come back in event id order. Each entry carries the message as it was right after its
    // own change - what an entry read from the log would show at that moment - so two reactions to
    // one message in a batch arrive as two steps, not twice the final state.
    let previous = prevId;
    const published: Promise<void>[] = [];
    const reacted = results.map((outcome): Reacted => {
      if (outcome.status !== "changed" && outcome.status !== "unchanged") return outcome;
      const message = toMessageDto(outcome.message);
      if (outcome.status === "changed") {
        const entry = { kind: "message.updated" as const, id: outcome.eventId.toString(), message };
        published.push(this.bus.publish({ type: "entry", entry, recipientIds: outcome.recipientIds, prevId: previous.toString(), committedAt }).catch(this.onPublishError));
        previous = outcome.eventId;
      }
      return { status: outcome.status, message };
    });
    this.metrics.eventsCommitted(published.length);
    // Stored means done, even if publishing failed: hubs read the gap from the log.
    await Promise.all(published);
    return reacted;
  }
}
