import { setPresence } from "../domain/presence.js";
import { okSchema, setPresenceInput } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";

export const presenceRouter = router({
  set: protectedProcedure
    .meta({
      description: "Says whether the caller is active or away, which their contacts see as online or away while the caller has a WebSocket open.",
      errors: { TOO_MANY_REQUESTS: "the caller changed status too often recently" },
    })
    .input(setPresenceInput)
    .output(okSchema)
    .mutation(async ({ ctx, input }) => {
      await setPresence(ctx.services, ctx.userId, input.status);
      return { ok: true as const };
    }),
});
