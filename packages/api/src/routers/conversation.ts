import { z } from "zod";
import { createConversation, getConversation, listConversations } from "../domain/conversations.js";
import { CONVERSATION_PAGE_MAX, conversationSchema, createConversationInput, getConversationInput, listConversationsInput } from "../schemas.js";
import { conversationMemberProcedure, protectedProcedure, router } from "../trpc.js";

export const conversationRouter = router({
  list: protectedProcedure
    .meta({
      description: "Returns one page of the caller's conversations, most recently active first.",
      errors: { BAD_REQUEST: "the cursor is not one of the caller's conversations" },
    })
    .input(listConversationsInput)
    .output(z.array(conversationSchema))
    .query(({ ctx, input }) => listConversations(ctx.services, ctx.userId, { cursor: input?.cursor, limit: input?.limit ?? CONVERSATION_PAGE_MAX })),
  get: conversationMemberProcedure
    .meta({ description: "Returns one of the caller's conversations with all its members.", errors: {} })
    .input(getConversationInput)
    .output(conversationSchema)
    .query(({ ctx, input }) => getConversation(ctx.services, input.conversationId)),
  create: protectedProcedure
    .meta({
      description: "Creates a conversation of the caller with the named users, or returns the existing direct conversation when it names one other user and no title.",
      errors: {
        BAD_REQUEST: "memberIds names no other user, a user that does not exist, or more members than allowed",
        TOO_MANY_REQUESTS: "the caller created too many conversations, or added too many members, recently",
      },
    })
    .input(createConversationInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => createConversation(ctx.services, ctx.userId, input)),
});
