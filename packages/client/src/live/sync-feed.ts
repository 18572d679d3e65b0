// The live feed of v2: sync.events, every stored change of the reader's conversations as a tracked
// event (its id resumes the stream), with typing and presence in between, untracked.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import type { FeedEvent } from "../types";
import type { FeedSource } from "./live-stream";

export function syncFeed(api: TRPCClient<AppRouter>): FeedSource<FeedEvent> {
  return (lastEventId, observer) =>
    api.sync.events.subscribe(lastEventId ? { lastEventId } : undefined, {
      onStarted: () => observer.onStarted(),
      // tRPC types every item as tracked; the server sends typing and presence without an id.
      onData: (data) => {
        const { id, data: event } = data as { id?: string; data?: FeedEvent };
        if (id !== undefined && event !== undefined) observer.onData({ id, event });
        else observer.onData({ id: undefined, event: data as unknown as FeedEvent });
      },
      onConnectionStateChange: (state) => {
        if (state.state !== "pending") observer.onInterrupted();
      },
      onError: (error) => observer.onError(error),
      onComplete: () => observer.onComplete(),
    });
}
