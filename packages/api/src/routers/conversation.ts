import { z } from "zod";
import { createConversation, getConversation, listConversations } from "../domain/conversations.js";
import { CONVERSATION_PAGE_MAX, conversationSchema, createConversationInput, getConversationInput, listConversationsInput } from "../schemas.js";
import { conversationMemberProcedure, protectedProcedure, router } from "../trpc.js";

export const conversationRouter = router({
  list: protectedProcedure
    .input(listConversationsInput)
    .output(z.array(conversationSchema))
    .query(({ ctx, input }) => listConversations(ctx.services, ctx.userId, { cursor: input?.cursor, limit: input?.limit ?? CONVERSATION_PAGE_MAX })),
  get: conversationMemberProcedure
    .input(getConversationInput)
    .output(conversationSchema)
    .query(({ ctx, input }) => getConversation(ctx.services, input.conversationId)),
  create: protectedProcedure
    .input(createConversationInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => createConversation(ctx.services, ctx.userId, input)),
});
