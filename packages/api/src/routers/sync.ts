import { assertResumable, feedStream, REPLAY_PAGE } from "../live/feed-stream.js";
import { eventsForUser } from "../live/feed-log.js";
import { viewFor } from "../live/feed.js";
import { feedEventSchema, syncInput, type FeedEvent } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";

export const syncRouter = router({
  /**
   * Every stored event of the caller's conversations while they are a member, as tracked events
   * (id = event id), first replaying those after `lastEventId`; without it, from now on. Typing and
   * presence come in between, untracked.
   */
  events: protectedProcedure
    .meta({
      description:
        "Streams every change to the caller's conversations - messages, conversations (created, renamed, members), read pointers - as events whose id resumes the stream, first replaying those after lastEventId, with typing and presence in between (untracked).",
      errors: {
        PRECONDITION_FAILED:
          "lastEventId is older than the events the server keeps (7 days) or not one of its events (another database, or from before a restore): reload state and subscribe without it",
        TOO_MANY_REQUESTS: "the connection already has as many live subscriptions as allowed",
        UNAUTHORIZED: "sent as the stream's end when the caller's session ends or the token expires",
      },
      events: feedEventSchema,
    })
    .input(syncInput)
    // Returns the stream rather than delegating to it (yield*): one async generator per delivery, not two.
    .subscription(async ({ ctx, input, signal }) => {
      const lastEventId = input?.lastEventId ? BigInt(input.lastEventId) : null;
      if (lastEventId !== null) await assertResumable(ctx.services, lastEventId);
      return feedStream(ctx, signal, {
        lastEventId,
        replay: (afterId) => eventsForUser(ctx.services.db, ctx.userId, afterId, REPLAY_PAGE),
        view: (entry): FeedEvent | null => viewFor(entry, ctx.userId),
        ephemeral: (event): FeedEvent => event,
      });
    }),
});
