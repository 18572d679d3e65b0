import { z } from "zod";
import { getUser, logIn, logOut, refreshTokens, signUp } from "../domain/accounts.js";
import { loginInput, refreshTokenInput, signupInput, tokensSchema, userSchema } from "../schemas.js";
import { protectedProcedure, publicProcedure, router } from "../trpc.js";

export const authRouter = router({
  signup: publicProcedure
    .input(signupInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => signUp(ctx.services, input, ctx.clientAddress)),
  login: publicProcedure
    .input(loginInput)
    .output(tokensSchema)
    .mutation(({ ctx, input }) => logIn(ctx.services, input, ctx.clientAddress)),
  refresh: publicProcedure
    .input(refreshTokenInput)
    .output(tokensSchema)
    .mutation(({ ctx, input }) => refreshTokens(ctx.services, input.refreshToken)),
  logout: publicProcedure
    .input(refreshTokenInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(({ ctx, input }) => logOut(ctx.services, input.refreshToken)),
  me: protectedProcedure.output(userSchema).query(({ ctx }) => getUser(ctx.services, ctx.userId)),
});
