// The wire shapes of the admin router (users, invites, the signup mode, the audit log). Clients take
// their types from AppRouter (inferRouterOutputs), as the web app's admin page does.
import { z } from "zod";
import { idSchema, inviteStateSchema, signupModeSchema } from "../schemas.js";

export const ADMIN_USER_PAGE_MAX = 100;
export const INVITE_MAX_USES = 1000;
/** Invites last from an hour to 30 days. */
export const INVITE_EXPIRY_HOURS = { min: 1, max: 30 * 24, default: 7 * 24 } as const;
export const INVITE_PAGE_MAX = 100;
export const AUDIT_PAGE_MAX = 100;

/** A user as an admin sees them. */
export const adminUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  fullName: z.string(),
  isAdmin: z.boolean(),
  deactivated: z.boolean(),
  createdAt: z.string(),
  deactivatedAt: z.string().nullable(),
});

export const listAdminUsersInput = z
  .object({
    /** Users whose username or full name starts with it, ignoring case (at most one page, no cursor). */
    query: z
      .string()
      .max(64)
      .transform((s) => s.normalize("NFC").trim())
      .pipe(z.string().max(32, "query must be at most 32 characters"))
      .optional(),
    /** The username of the last user of the previous page. */
    cursor: z.string().max(64).nullish(),
    limit: z.number().int().min(1).max(ADMIN_USER_PAGE_MAX).default(50),
  })
  .optional();

export const adminUserPageSchema = z.object({ items: z.array(adminUserSchema), nextCursor: z.string().nullable() });

export const setAdminInput = z.object({ userId: idSchema, admin: z.boolean() });
export const userIdInput = z.object({ userId: idSchema });

/** Who made or did something, as the admin pages name them (null: the server itself, or a user no longer found). */
export const userRefSchema = z.object({ id: z.string(), username: z.string() });

export const inviteSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  maxUses: z.number().int(),
  uses: z.number().int(),
  revokedAt: z.string().nullable(),
  createdBy: userRefSchema.nullable(),
  /** "valid" while it can be used; else why not ("expired", "revoked", "used_up"). */
  state: inviteStateSchema.exclude(["unknown"]),
});

export const createInviteInput = z.object({
  /** Signups it allows: 1 (the default) for a link meant for one person. */
  maxUses: z.number().int().min(1).max(INVITE_MAX_USES).default(1),
  expiresInHours: z.number().int().min(INVITE_EXPIRY_HOURS.min).max(INVITE_EXPIRY_HOURS.max).default(INVITE_EXPIRY_HOURS.default),
});

export const createdInviteSchema = z.object({
  invite: inviteSchema,
  /** The link's secret, shown this once (only its hash is stored): the link is <origin>/invite/<token>. */
  token: z.string(),
});

export const listInvitesInput = z
  .object({
    /** The id of the last invite of the previous page. */
    cursor: idSchema.nullish(),
    limit: z.number().int().min(1).max(INVITE_PAGE_MAX).default(50),
  })
  .optional();

export const invitePageSchema = z.object({ items: z.array(inviteSchema), nextCursor: z.string().nullable() });

export const inviteIdInput = z.object({ inviteId: idSchema });

export const settingsSchema = z.object({ signupMode: signupModeSchema });
export const setSignupModeInput = z.object({ mode: signupModeSchema });

export const AUDIT_KINDS = [
  "login.succeeded",
  "login.failed",
  "login.deactivated",
  "refresh.reused",
  "user.signed_up",
  "invite.used",
  "invite.created",
  "invite.revoked",
  "user.promoted",
  "user.demoted",
  "user.deactivated",
  "user.reactivated",
  "signup_mode.changed",
] as const;
export const auditKindSchema = z.enum(AUDIT_KINDS);

export const auditInput = z
  .object({
    kind: auditKindSchema.optional(),
    /** Only entries this user did or that were done to them. */
    userId: idSchema.optional(),
    /** The id of the last entry of the previous page. */
    cursor: z.string().regex(/^[1-9][0-9]{0,9}$/, "cursor must be an audit entry id").nullish(),
    limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
  })
  .optional();

export const auditEntrySchema = z.object({
  id: z.string(),
  kind: auditKindSchema,
  /** When it (first) happened. */
  at: z.string(),
  /** Aggregated kinds (logins, refresh-token reuse): how many times within the hour from `at`, the last at `lastAt`. */
  count: z.number().int(),
  lastAt: z.string(),
  actor: userRefSchema.nullable(),
  target: userRefSchema.nullable(),
  /** The username tried, for failed logins (it may name nobody). */
  username: z.string().nullable(),
  address: z.string().nullable(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() });

export type AdminUserDto = z.infer<typeof adminUserSchema>;
export type InviteDto = z.infer<typeof inviteSchema>;
export type AuditKind = z.infer<typeof auditKindSchema>;
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;
