import { z } from "zod";
import { getRole, getUser, logIn, logOut, refreshTokens, signUp, signupInfo } from "../domain/accounts.js";
import { loginInput, roleSchema, refreshTokenInput, signupInfoInput, signupInfoSchema, signupInput, tokensSchema, userSchema } from "../schemas.js";
import { protectedProcedure, publicProcedure, router } from "../trpc.js";

export const authRouter = router({
  signup: publicProcedure
    .meta({
      description:
        "Creates an account with a username, a password and an optional full name (and an invite link's token, which the signup mode may require), and returns the new user.",
      errors: {
        BAD_REQUEST: "the full name is another user's username",
        FORBIDDEN: 'the signup mode does not allow it (`data.reason` "signup_not_allowed": "closed", or "invite" without an invite), or the invite is unknown, expired, revoked or used up ("invite_invalid")',
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
        UNAUTHORIZED: 'wrong username or password; or the right ones of a deactivated account (`data.reason` "account_deactivated")',
        TOO_MANY_REQUESTS: "too many failed logins for this username or address, or the server is busy hashing passwords",
      },
    })
    .input(loginInput)
    .output(tokensSchema)
    .mutation(({ ctx, input }) => logIn(ctx.services, input, ctx.clientAddress)),
  refresh: publicProcedure
    .meta({
      description: "Exchanges a refresh token for a new access token and refresh token; the old refresh token stops working.",
      errors: {
        UNAUTHORIZED: 'the refresh token is invalid, expired or already used (which ends its session), or its session has ended; its account was deactivated (`data.reason` "account_deactivated")',
      },
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
  role: protectedProcedure
    .meta({ description: "Returns whether the caller is an admin of the deployment (and may use the admin procedures).", errors: {} })
    .output(roleSchema)
    .query(({ ctx }) => getRole(ctx.services, ctx.userId)),
  signupInfo: publicProcedure
    .meta({ description: "Returns the signup mode, whether the next account is the deployment's first (its admin), and what a given invite token is worth.", errors: {} })
    .input(signupInfoInput)
    .output(signupInfoSchema)
    .query(({ ctx, input }) => signupInfo(ctx.services, input?.inviteToken)),
});
