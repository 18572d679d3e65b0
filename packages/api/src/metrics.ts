// What the API reports about its own work (messages, deliveries, database time, refusals). The
// server hands in an implementation (apps/server/src/metrics.ts: Prometheus); without one nothing is
// recorded, so tests and other users of this package need nothing. Calls on the delivery path are
// one plain call each, with no labels to look up: what needs a label is bound once, when wired.
import { z } from "zod";

/**
 * Every rate limit that can refuse a call: the names of the limiters (context.ts) and of the
 * server's own connection limits. A fixed list, so each is a label known in advance.
 */
export const RATE_LIMIT_KINDS = [
  "login-failures-account-address",
  "login-failures-address",
  "login-failures-account",
  "signups-address",
  "signups-overall",
  "messages-user",
  "message-changes-user",
  "conversations-user",
  "conversation-members-user",
  "presence-changes-user",
  "searches-user",
  "uploads-user",
  "ws-frames",
  "ws-connections",
  "ws-connections-address",
  "ws-connections-user",
] as const;
export type RateLimitKind = (typeof RATE_LIMIT_KINDS)[number];

/** The group-committed writers (domain/group-commit.ts): whose batch sizes are recorded. */
export const WRITERS = ["messages", "reads", "reactions"] as const;
export type WriterName = (typeof WRITERS)[number];

export interface Metrics {
  /** Messages this instance stored (replies included; a retry that stored nothing is not one). */
  messagesStored(count: number): void;
  /** Events this instance committed to the log (a message's, a read pointer's, a reaction's, ...). */
  eventsCommitted(count: number): void;
  /**
   * One stored event written to one live subscription's socket, `lagSeconds` after the transaction
   * that stored it committed. Called once per delivery: keep it a plain increment.
   */
  delivered(lagSeconds: number): void;
  /** message.send answered with a message, `seconds` after it began (limits, storing, publishing). */
  sendCompleted(seconds: number): void;
  /** A recorder of one database operation's durations, bound once (timed-database.ts). */
  databaseTimer(operation: string): (seconds: number) => void;
  /** A recorder of one writer's batch sizes, bound once. */
  batchSizes(writer: WriterName): (size: number) => void;
  /** A limit refused a call. */
  rateLimited(kind: RateLimitKind): void;
  /** The main numbers now, for an at-a-glance view; null where nothing is recorded. */
  snapshot(): Promise<MetricsSnapshot | null>;
}

const ignore = () => undefined;

/** Records nothing: the default of createServices. */
export const noMetrics: Metrics = {
  messagesStored: ignore,
  eventsCommitted: ignore,
  delivered: ignore,
  sendCompleted: ignore,
  databaseTimer: () => ignore,
  batchSizes: () => ignore,
  rateLimited: ignore,
  snapshot: () => Promise.resolve(null),
};

const rate = z.number().nonnegative();

/**
 * The numbers an operator looks at first, as one typed object (an admin panel shows them; /metrics
 * has the same and more for Prometheus). Rates are per second over the last minute (less just after
 * start: `windowSeconds` says how long); latencies are means over that window, null when nothing
 * happened in it.
 */
export const metricsSnapshotSchema = z.object({
  at: z.string(),
  windowSeconds: z.number().nonnegative(),
  /** Open WebSocket connections on this instance. */
  connections: z.number().int().nonnegative(),
  /** Live subscriptions (sync.events, message.live) on this instance. */
  subscriptions: z.number().int().nonnegative(),
  messagesPerSecond: rate,
  eventsPerSecond: rate,
  deliveriesPerSecond: rate,
  rateLimitedPerSecond: rate,
  meanDeliveryLagMs: z.number().nonnegative().nullable(),
  meanSendLatencyMs: z.number().nonnegative().nullable(),
  /** The event loop's delay, 99th percentile over the last sampling period. */
  eventLoopDelayP99Ms: z.number().nonnegative(),
  /** "up" or "down"; null without Redis. */
  redis: z.enum(["up", "down"]).nullable(),
  memory: z.object({ rssBytes: z.number().int().nonnegative(), heapUsedBytes: z.number().int().nonnegative() }),
  /** Counts since the process started. */
  totals: z.object({
    messages: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    deliveries: z.number().int().nonnegative(),
    rateLimited: z.number().int().nonnegative(),
  }),
});
export type MetricsSnapshot = z.infer<typeof metricsSnapshotSchema>;
