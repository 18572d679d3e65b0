// The audit log's entries in words, for the admin page.
import type { AppRouter } from "@parley/api";
import type { inferRouterOutputs } from "@trpc/server";

export type AuditEntry = inferRouterOutputs<AppRouter>["admin"]["auditLog"]["items"][number];
export type AuditKind = AuditEntry["kind"];

/** The filter's choices, in the order shown. */
export const AUDIT_KIND_LABELS: Record<AuditKind, string> = {
  "login.succeeded": "Logins",
  "login.failed": "Failed logins",
  "login.deactivated": "Logins of deactivated accounts",
  "refresh.reused": "Reused refresh tokens",
  "user.signed_up": "Signups",
  "invite.used": "Signups with an invite",
  "invite.created": "Invites created",
  "invite.revoked": "Invites revoked",
  "user.promoted": "Made admin",
  "user.demoted": "Admin removed",
  "user.deactivated": "Deactivations",
  "user.reactivated": "Reactivations",
  "signup_mode.changed": "Signup mode changes",
};

const MODE_WORDS: Record<string, string> = { open: "open", invite: "invite only", closed: "closed" };

function who(ref: AuditEntry["actor"]): string {
  if (!ref) return "the server";
  return ref.username ? `@${ref.username}` : "a user no longer found";
}

/** One sentence; the server itself acting (ADMIN_USERNAME, SIGNUP_MODE, the first account) says why. */
export function describeAuditEntry(entry: AuditEntry): string {
  const actor = who(entry.actor);
  const target = who(entry.target);
  const by = typeof entry.data.by === "string" ? ` (${entry.data.by})` : "";
  switch (entry.kind) {
    case "login.succeeded":
      return `${actor} logged in`;
    case "login.failed":
      if (entry.data.overflow) return "Failed logins beyond this hour's detailed entries";
      return entry.target ? `Failed login as ${target}` : `Failed login as “${entry.username ?? ""}” (no such user)`;
    case "login.deactivated":
      return `${target} tried to log in while deactivated`;
    case "refresh.reused":
      return `A used refresh token of ${target} came back: that session was ended`;
    case "user.signed_up":
      return `${actor} signed up`;
    case "invite.used":
      return `${actor} signed up with an invite`;
    case "invite.created":
      return `${actor} created an invite for ${String(entry.data.maxUses)} signup${entry.data.maxUses === 1 ? "" : "s"}`;
    case "invite.revoked":
      return `${actor} revoked an invite`;
    case "user.promoted":
      return `${capitalised(actor)} made ${target} an admin${by}`;
    case "user.demoted":
      return `${capitalised(actor)} removed ${target} as admin`;
    case "user.deactivated":
      return `${capitalised(actor)} deactivated ${target}`;
    case "user.reactivated":
      return `${capitalised(actor)} reactivated ${target}${by}`;
    case "signup_mode.changed":
      return `${capitalised(actor)} changed signups from ${MODE_WORDS[String(entry.data.from)] ?? "?"} to ${MODE_WORDS[String(entry.data.to)] ?? "?"}${by}`;
  }
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
