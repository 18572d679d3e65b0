import { listMessages, messagesForUserAfter, sendMessage } from "../domain/messages.js";
import { eventsForUser } from "../live/feed-log.js";
import { feedStream, REPLAY_PAGE } from "../live/feed-stream.js";
import { listMessagesInput, liveInput, messagePageSchema, messageSchema, sendMessageInput } from "../schemas.js";
import { conversationMemberProcedure, protectedProcedure, router } from "../trpc.js";

export const messageRouter = router({
  list: conversationMemberProcedure
    .meta({ description: "Returns a conversation's messages a page at a time from the newest back (each page oldest first), with the cursor of the older page.", errors: {} })
    .input(listMessagesInput)
    .output(messagePageSchema)
    .query(({ ctx, input }) => listMessages(ctx.services, input)),
  send: conversationMemberProcedure
    .meta({
      description: "Sends a message to a conversation, or returns the one already sent with the same clientMessageId, so a retry never duplicates.",
      errors: { TOO_MANY_REQUESTS: "the caller sent too many messages recently" },
    })
    .input(sendMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => sendMessage(ctx.services, ctx.userId, input)),
  /**
   * The messages-only view of the event feed (v1): every new message of the caller's conversations
   * while they are a member, as tracked events whose id is the message id (a message's id is the id
   * of the event that created it), first replaying those after `lastEventId`.
   * It ends with UNAUTHORIZED when the caller's session is revoked or the token expires.
   */
  live: protectedProcedure
    .meta({
      description: "Streams every new message of the caller's conversations as events whose id is the message id, first replaying those after lastEventId.",
      errors: {
        TOO_MANY_REQUESTS: "the connection already has as many live subscriptions as allowed",
        UNAUTHORIZED: "sent as the stream's end when the caller's session ends or the token expires",
      },
      events: messageSchema,
    })
    .input(liveInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const lastEventId = input?.lastEventId ? BigInt(input.lastEventId) : null;
      // Older than the log keeps: v1 clients still get every message of their conversations (by membership now).
      const fromLog = lastEventId === null || lastEventId >= (await ctx.services.db.events.floor());
      yield* feedStream(ctx, signal, {
        lastEventId,
        replay: (afterId) => (fromLog ? eventsForUser(ctx.services.db, ctx.userId, afterId, REPLAY_PAGE) : messagesForUserAfter(ctx.services, ctx.userId, afterId)),
        view: (entry) => (entry.kind === "message.created" ? entry.message : null),
      });
    }),
});
