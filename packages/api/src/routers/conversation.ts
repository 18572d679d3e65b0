import { z } from "zod";
import { createConversation, listConversations } from "../domain/conversations.js";
import { conversationSchema, createConversationInput } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";

export const conversationRouter = router({
  list: protectedProcedure
    .output(z.array(conversationSchema))
    .query(({ ctx }) => listConversations(ctx.services, ctx.userId)),
  create: protectedProcedure
    .input(createConversationInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => createConversation(ctx.services, ctx.userId, input)),
});
