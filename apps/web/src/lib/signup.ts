// What the signup screen shows, from the server's signup mode and an invite link's token: a form,
// or a sentence saying why there is none. Invite links are /invite/<token> (or ?invite=<token>).
import type { AppRouter } from "@parley/api";
import type { inferRouterOutputs } from "@trpc/server";

export type SignupInfo = inferRouterOutputs<AppRouter>["auth"]["signupInfo"];

/** The invite token in an address, if it is an invite link. */
export function inviteTokenFrom(location: { pathname: string; search: string }): string | null {
  const path = /^\/invite\/([^/?#]+)\/?$/.exec(location.pathname);
  const raw = path?.[1] ?? new URLSearchParams(location.search).get("invite");
  if (!raw) return null;
  try {
    const token = decodeURIComponent(raw).trim();
    return token === "" ? null : token;
  } catch {
    return null;
  }
}

/** The link an admin copies: `${origin}/invite/<token>`. */
export function inviteLink(origin: string, token: string): string {
  return `${origin}/invite/${encodeURIComponent(token)}`;
}

export type SignupScreen =
  /** The form, with a line above it (or none). */
  | { form: true; note: string | null }
  /** No form: why, and what to do. */
  | { form: false; title: string; message: string };

const INVITE_PROBLEMS = {
  unknown: "This invite link is not valid. Ask an admin of this server for a new one.",
  expired: "This invite link has expired. Ask an admin of this server for a new one.",
  revoked: "This invite link was revoked. Ask an admin of this server for a new one.",
  used_up: "This invite link has been used as many times as it allows. Ask an admin of this server for a new one.",
} as const;

/** Unknown (not loaded, or the server could not be asked): the form, and the server decides. */
export function signupScreen(info: SignupInfo | null): SignupScreen {
  if (!info) return { form: true, note: null };
  if (info.firstAccount) return { form: true, note: "Nobody has signed up here yet: your account will be this server's admin." };
  const invite = info.invite;
  if (info.mode === "closed") return { form: false, title: "Signups are closed", message: "This server does not take new accounts. Ask an admin of this server if you need one." };
  if (invite && invite !== "valid") {
    // In open mode a spoilt link does not stop anyone; say so, and offer the form without it.
    if (info.mode === "open") return { form: true, note: `${INVITE_PROBLEMS[invite]} You can still sign up without it.` };
    return { form: false, title: "Invite link not valid", message: INVITE_PROBLEMS[invite] };
  }
  if (info.mode === "invite" && invite !== "valid") {
    return { form: false, title: "Invite only", message: "This server is invite only: ask an admin for an invite link, then open it to sign up." };
  }
  return { form: true, note: invite === "valid" ? "You have been invited to this Parley server." : null };
}
