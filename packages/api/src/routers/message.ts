import { tracked } from "@trpc/server";
import { BACKFILL_PAGE, listMessages, messagesForUserAfter, sendMessage } from "../domain/messages.js";
import { listMessagesInput, liveInput, messagePageSchema, messageSchema, sendMessageInput } from "../schemas.js";
import { openLiveSubscription } from "../live/live-subscription.js";
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
    .mutation(({ ctx, input }) => sendMessage(ctx.services, ctx.userId, ctx.memberIds, input)),
  /**
   * Every message of the caller's conversations, as tracked events whose id is the message id.
   * It starts listening first, then backfills from the database after `lastEventId`, then streams
   * live; ids only grow, so anything at or below the last one delivered is a duplicate of the seam.
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
    .input(liveInput).subscription(async function* ({ ctx, input, signal }) {
    const live = openLiveSubscription(ctx, signal);
    const { queue } = live;
    try {
      let lastId = input?.lastEventId ? BigInt(input.lastEventId) : null;
      if (lastId !== null) {
        for (;;) {
          live.assertLive();
          const page = await messagesForUserAfter(ctx.services, ctx.userId, lastId);
          for (const message of page) {
            lastId = BigInt(message.id);
            yield tracked(message.id, message);
          }
          if (page.length < BACKFILL_PAGE) break;
        }
      }
      while (!queue.isClosed) {
        const messages = await queue.take();
        live.assertLive();
        for (const message of messages) {
          const id = BigInt(message.id);
          if (lastId !== null && id <= lastId) continue;
          lastId = id;
          yield tracked(message.id, message);
        }
      }
      live.assertLive();
    } finally {
      live.release();
    }
  }),
});
