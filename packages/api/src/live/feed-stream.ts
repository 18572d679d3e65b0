// The one loop behind every stored-event stream (sync.events, and message.live as its messages-only
// view): listen first, replay from the log after `lastEventId`, then stream live; ids only grow, so
// anything at or below the last one yielded is the overlap of replay and live, and is skipped.
import { tracked, TRPCError, type TrackedEnvelope } from "@trpc/server";
import type { AccessClaims } from "../auth/tokens.js";
import type { Services } from "../context.js";
import type { ConnectionResources } from "./connection-resources.js";
import type { EphemeralEvent } from "./ephemeral.js";
import type { FeedEntry } from "./feed.js";
import { openLiveSubscription } from "./live-subscription.js";
import { frameHead, jsonOnce, SENDS_OWN_FRAMES, trackedFrame, untrackedFrame, type FrameSink } from "./ws-frames.js";

/** Log rows read per replay page. */
export const REPLAY_PAGE = 500;

export const RESYNC_REQUIRED =
  "lastEventId is older than the events this server keeps, or not one of its events (another database, or from before a restore): reload your state and subscribe without lastEventId";

export interface FeedStreamOptions<T, E = never> {
  lastEventId: bigint | null;
  /** One page of what the user missed after an id. */
  replay(afterId: bigint): Promise<{ entries: FeedEntry[]; lastId: bigint; rows: number }>;
  /** What the user receives of an entry (null: nothing). */
  view(entry: FeedEntry): T | null;
  /** Typing and presence: passed on untracked (never stored, never replayed). Without it, none are wanted. */
  ephemeral?: (event: EphemeralEvent) => E;
}

type StreamContext = { services: Services; auth: AccessClaims; userId: string; connection: ConnectionResources };

/** A stored-event stream: iterated by any transport, and able to write its own WebSocket frames. */
export type FeedStream<T, E> = AsyncGenerator<TrackedEnvelope<T> | E, void, unknown> & { [SENDS_OWN_FRAMES](sink: FrameSink): void };

/**
 * The stream. Over tRPC's WebSocket adapter, once the replay is done the stream writes each live
 * event's frame itself as the hub hands the event over (the event's JSON made once per fan-out and
 * spliced into each subscription's frame): no generator step, promise or response object per
 * delivery. Other transports (and callers in tests) iterate it and get the same events, yielded.
 */
export function feedStream<T extends object, E extends object = never>(ctx: StreamContext, signal: AbortSignal | undefined, options: FeedStreamOptions<T, E>): FeedStream<T, E> {
  const target: { sink: FrameSink | null } = { sink: null };
  return Object.assign(streamEvents(ctx, signal, options, target), {
    [SENDS_OWN_FRAMES](sink: FrameSink) {
      target.sink = sink;
    },
  });
}

async function* streamEvents<T extends object, E extends object>(
  ctx: StreamContext,
  signal: AbortSignal | undefined,
  options: FeedStreamOptions<T, E>,
  target: { sink: FrameSink | null },
): AsyncGenerator<TrackedEnvelope<T> | E, void, unknown> {
  const live = openLiveSubscription(ctx, signal, { ephemeral: options.ephemeral !== undefined });
  const { queue } = live;
  try {
    let lastId = options.lastEventId;
    if (lastId !== null) {
      for (;;) {
        live.assertLive();
        const page = await options.replay(lastId);
        for (const entry of page.entries) {
          const view = options.view(entry);
          if (view !== null) yield tracked(entry.id, view);
        }
        lastId = page.lastId;
        if (page.rows < REPLAY_PAGE) break;
      }
    }
    const { metrics } = ctx.services;
    const { sink } = target;
    if (sink !== null) {
      // The adapter sends "started" right after the stream's first step: frames go after it.
      await Promise.resolve();
      const head = frameHead(sink.id, sink.jsonrpc);
      const { ephemeral, view } = options;
      await queue.consumeWith((entry, committedAt) => {
        if (entry.kind === "ephemeral") {
          if (ephemeral) sink.send(untrackedFrame(head, jsonOnce(ephemeral(entry.event))));
          return;
        }
        const id = BigInt(entry.id);
        if (lastId !== null && id <= lastId) return;
        lastId = id;
        const shown = view(entry);
        if (shown === null) return;
        sink.send(trackedFrame(head, entry.id, jsonOnce(shown)));
        const writtenAt = Date.now();
        metrics.delivered((writtenAt - (committedAt || writtenAt)) / 1000);
      });
    }
    while (!queue.isClosed) {
      const entries = await queue.take();
      live.assertLive();
      // The batch is written to the socket in this turn of the event loop: one clock read for all.
      const committedAt = queue.takenCommittedAt;
      const writtenAt = Date.now();
      let index = -1;
      for (const entry of entries) {
        index += 1;
        if (entry.kind === "ephemeral") {
          if (options.ephemeral) yield options.ephemeral(entry.event);
          continue;
        }
        const id = BigInt(entry.id);
        if (lastId !== null && id <= lastId) continue;
        lastId = id;
        const view = options.view(entry);
        if (view !== null) {
          // Counted as it is handed over: the generator may not be resumed after its last event.
          metrics.delivered((writtenAt - (committedAt[index] ?? writtenAt)) / 1000);
          yield tracked(entry.id, view);
        }
      }
    }
    live.assertLive();
  } finally {
    live.release();
  }
}

/**
 * Where a resume position stands. Refused (PRECONDITION_FAILED) when the log never had it: beyond
 * the newest event (another database, or the deployment a backup was taken from, after the backup),
 * or from before the last restore (its ids and what the client holds may be of the lost events).
 * Otherwise "log" when the log still holds everything after it, "pruned" when retention removed
 * some (sync.events refuses that too; message.live replays from the messages themselves).
 */
export async function resumePosition(services: Services, lastEventId: bigint): Promise<"log" | "pruned"> {
  const [floor, latest] = await Promise.all([services.db.events.floor(), services.db.messages.latestId()]);
  if (lastEventId < floor.restoredAtId || lastEventId > latest) throw new TRPCError({ code: "PRECONDITION_FAILED", message: RESYNC_REQUIRED });
  return lastEventId < floor.prunedThroughId ? "pruned" : "log";
}

/** sync.events' rule: only a position whose every later event the log still holds. */
export async function assertResumable(services: Services, lastEventId: bigint): Promise<void> {
  if ((await resumePosition(services, lastEventId)) === "pruned") throw new TRPCError({ code: "PRECONDITION_FAILED", message: RESYNC_REQUIRED });
}
