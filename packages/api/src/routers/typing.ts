import { okSchema, typingInput } from "../schemas.js";
import { conversationMemberProcedure, router } from "../trpc.js";

export const typingRouter = router({
  set: conversationMemberProcedure
    .meta({
      description: "Tells the conversation's other members, live, that the caller is typing; calls within 2 seconds of the last one passed on are answered without being sent again.",
      errors: {},
    })
    .input(typingInput)
    .output(okSchema)
    .mutation(({ ctx, input }) => {
      ctx.services.typing.set(ctx.userId, input.conversationId, ctx.memberIds);
      return { ok: true as const };
    }),
});
