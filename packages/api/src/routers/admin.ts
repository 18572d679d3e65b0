import { createInvite, listInvites, revokeInvite } from "../admin/invites.js";
import {
  adminUserPageSchema,
  adminUserSchema,
  auditInput,
  auditPageSchema,
  createdInviteSchema,
  createInviteInput,
  inviteIdInput,
  invitePageSchema,
  inviteSchema,
  listAdminUsersInput,
  listInvitesInput,
  setAdminInput,
  setSignupModeInput,
  settingsSchema,
  userIdInput,
} from "../admin/schemas.js";
import { readSettings, setSignupMode } from "../admin/settings.js";
import { deactivateUser, listAdminUsers, reactivateUser, setAdmin } from "../admin/users.js";
import { metricsSnapshotSchema } from "../metrics.js";
import { adminProcedure, router } from "../trpc.js";

/** Every procedure here: adminProcedure refuses anyone else before reading the input. */
const adminOnly = { FORBIDDEN: "the caller is not an active admin (nothing is read or changed)" };
const noSuchUser = { ...adminOnly, NOT_FOUND: "no user has that id" };

export const adminRouter = router({
  users: adminProcedure
    .meta({ description: "Returns one page of users by username (or those whose username or full name starts with `query`), with their role and whether they are active.", errors: adminOnly })
    .input(listAdminUsersInput)
    .output(adminUserPageSchema)
    .query(({ ctx, input }) => listAdminUsers(ctx.services, { query: input?.query || undefined, cursor: input?.cursor, limit: input?.limit ?? 50 })),
  setAdmin: adminProcedure
    .meta({ description: "Promotes a user to admin (`admin: true`) or demotes them; the last active admin cannot be demoted.", errors: { ...noSuchUser, BAD_REQUEST: "it would leave no active admin" } })
    .input(setAdminInput)
    .output(adminUserSchema)
    .mutation(({ ctx, input }) => setAdmin(ctx.services, ctx.userId, input)),
  deactivate: adminProcedure
    .meta({
      description: "Deactivates a user: their sessions and live connections end at once on every instance, they cannot log in or refresh; their messages stay.",
      errors: { ...noSuchUser, BAD_REQUEST: "the user is the caller, or the last active admin" },
    })
    .input(userIdInput)
    .output(adminUserSchema)
    .mutation(({ ctx, input }) => deactivateUser(ctx.services, ctx.userId, input.userId)),
  reactivate: adminProcedure
    .meta({ description: "Lets a deactivated user log in again (the sessions that the deactivation ended stay ended).", errors: noSuchUser })
    .input(userIdInput)
    .output(adminUserSchema)
    .mutation(({ ctx, input }) => reactivateUser(ctx.services, ctx.userId, input.userId)),
  createInvite: adminProcedure
    .meta({ description: "Makes an invite link allowing `maxUses` signups until it expires; its token is returned this once (the link is <origin>/invite/<token>).", errors: adminOnly })
    .input(createInviteInput)
    .output(createdInviteSchema)
    .mutation(({ ctx, input }) => createInvite(ctx.services, ctx.userId, input)),
  invites: adminProcedure
    .meta({ description: "Returns one page of invites, newest first, each with its state.", errors: adminOnly })
    .input(listInvitesInput)
    .output(invitePageSchema)
    .query(({ ctx, input }) => listInvites(ctx.services, { cursor: input?.cursor, limit: input?.limit ?? 50 })),
  revokeInvite: adminProcedure
    .meta({ description: "Revokes an invite: signups with it are refused from now on.", errors: { ...adminOnly, NOT_FOUND: "no invite has that id" } })
    .input(inviteIdInput)
    .output(inviteSchema)
    .mutation(({ ctx, input }) => revokeInvite(ctx.services, ctx.userId, input.inviteId)),
  settings: adminProcedure
    .meta({ description: "Returns the deployment's settings that admins change: the signup mode.", errors: adminOnly })
    .output(settingsSchema)
    .query(async ({ ctx }) => ({ signupMode: (await readSettings(ctx.services.db.prisma)).signupMode })),
  setSignupMode: adminProcedure
    .meta({ description: 'Sets the signup mode: "open", "invite" (invite links only) or "closed".', errors: adminOnly })
    .input(setSignupModeInput)
    .output(settingsSchema)
    .mutation(({ ctx, input }) => setSignupMode({ prisma: ctx.services.db.prisma, audit: ctx.services.audit }, ctx.userId, input.mode)),
  health: adminProcedure
    .meta({
      description:
        "Returns this instance's health at a glance - connections, live subscriptions, messages, events and deliveries a second over the last minute, delivery lag, send latency, event-loop delay, Redis, memory - the numbers /metrics serves; null when metrics are off (METRICS=off).",
      errors: adminOnly,
    })
    .output(metricsSnapshotSchema.nullable())
    .query(({ ctx }) => ctx.services.metrics.snapshot()),
  auditLog: adminProcedure
    .meta({ description: "Returns one page of the audit log, newest first, optionally of one kind and/or about one user (who did it or to whom).", errors: adminOnly })
    .input(auditInput)
    .output(auditPageSchema)
    .query(({ ctx, input }) => ctx.services.audit.list({ kind: input?.kind, userId: input?.userId, cursor: input?.cursor, limit: input?.limit ?? 50 })),
});
