import { z } from "zod";
import { getUser, logIn, logOut, refreshTokens, signUp } from "../domain/accounts.js";
import { loginInput, refreshTokenInput, signupInput, tokensSchema, userSchema } from "../schemas.js";
import { protectedProcedure, publicProcedure, router } from "../trpc.js";

export const authRouter = router({
  signup: publicProcedure
    .meta({
      description: "Creates an account with a username, a password and an optional full name, and returns the new user.",
      errors: {
        BAD_REQUEST: "the full name is another user's username",
        CONFLICT: "the username is taken",
        TOO_MANY_REQUESTS: "too many signups from this address or from everyone, or the server is busy hashing passwords",
      },
    })
    .input(signupInput)
    .output(userSchema)
    .mutation(({ ctx, input }) => signUp(ctx.services, input, ctx.clientAddress)),
  login: publicProcedure
    .meta({
      description: "Checks a username and password and returns an access token and a refresh token for a new session.",
      errors: {
        UNAUTHORIZED: "wrong username or password",
        TOO_MANY_REQUESTS: "too many failed logins for this username or address, or the server is busy hashing passwords",
      },
    })
    .input(loginInput)
    .output(tokensSchema)
    .mutation(({ ctx, input }) => logIn(ctx.services, input, ctx.clientAddress)),
  refresh: publicProcedure
    .meta({
      description: "Exchanges a refresh token for a new access token and refresh token; the old refresh token stops working.",
      errors: { UNAUTHORIZED: "the refresh token is invalid, expired or already used (which ends its session), or its session has ended" },
    })
    .input(refreshTokenInput)
    .output(tokensSchema)
    .mutation(({ ctx, input }) => refreshTokens(ctx.services, input.refreshToken)),
  logout: publicProcedure
    .meta({
      description: "Ends the session of a refresh token, so that neither its refresh token nor its access tokens work any more.",
      errors: { UNAUTHORIZED: "the refresh token is invalid" },
    })
    .input(refreshTokenInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(({ ctx, input }) => logOut(ctx.services, input.refreshToken)),
  me: protectedProcedure
    .meta({ description: "Returns the caller's own user.", errors: {} })
    .output(userSchema).query(({ ctx }) => getUser(ctx.services, ctx.userId)),
});
