// Today's feed: message.live, each stored message a tracked event. v2's sync.events carries this
// event and others in one order; it replaces this source, and LiveEvent gains members.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import type { Message } from "../types";
import type { FeedSource } from "./live-stream";

export type LiveEvent = { type: "message.created"; message: Message };

export function messageFeed(api: TRPCClient<AppRouter>): FeedSource<LiveEvent> {
  return (lastEventId, observer) =>
    api.message.live.subscribe(lastEventId ? { lastEventId } : undefined, {
      onStarted: () => observer.onStarted(),
      onData: ({ id, data }) => observer.onData({ id, event: { type: "message.created", message: data } }),
      onConnectionStateChange: (state) => {
        if (state.state !== "pending") observer.onInterrupted();
      },
      onError: (error) => observer.onError(error),
      onComplete: () => observer.onComplete(),
    });
}
