// Errors from the API, in words people understand. Reads the shape of a TRPCClientError (trpc.ts's errorFormatter:
// `data.code`, `data.issues` for BAD_REQUEST, `data.retryAfterSeconds` for TOO_MANY_REQUESTS)
// without depending on the class, so it is easy to test.
import { formatCount } from "./format-count";

export interface Issue {
  path: string;
  message: string;
}

export interface ApiFailure {
  /** The tRPC error code, or null when no answer came from the server (offline, restarting). */
  code: string | null;
  issues: Issue[];
  retryAfterSeconds: number | null;
  /** Why, for refusals a client tells apart: "account_deactivated", "signup_not_allowed", "invite_invalid". */
  reason: string | null;
}

export function toApiFailure(error: unknown): ApiFailure {
  const data = typeof error === "object" && error !== null ? (error as { data?: unknown }).data : undefined;
  if (typeof data !== "object" || data === null) return { code: null, issues: [], retryAfterSeconds: null, reason: null };
  const { code, issues, retryAfterSeconds, reason } = data as Record<string, unknown>;
  return {
    code: typeof code === "string" ? code : null,
    issues: Array.isArray(issues)
      ? issues.filter((i): i is Issue => typeof i === "object" && i !== null && typeof i.path === "string" && typeof i.message === "string")
      : [],
    retryAfterSeconds: typeof retryAfterSeconds === "number" ? retryAfterSeconds : null,
    reason: typeof reason === "string" ? reason : null,
  };
}

export function isUnauthorized(error: unknown): boolean {
  return toApiFailure(error).code === "UNAUTHORIZED";
}

/** No answer from the server, or one that says it could not cope right now: worth trying again. */
export function isTransient(failure: ApiFailure): boolean {
  return failure.code === null || failure.code === "INTERNAL_SERVER_ERROR" || failure.code === "SERVICE_UNAVAILABLE" || failure.code === "TIMEOUT";
}

/** The server refused a whole HTTP batch for its size; the same calls in smaller batches would pass. */
export function isRefusedBatch(error: unknown): boolean {
  const failure = toApiFailure(error);
  const message = error instanceof Error ? error.message : "";
  return failure.code === "BAD_REQUEST" && failure.issues.length === 0 && /batch/i.test(message);
}

/**
 * Worth loading again by itself, later: no answer, a server in trouble, too many requests, or a
 * batch refused for its size. Not: a refusal that would repeat (bad input, no access, logged out).
 */
export function isWorthRetrying(error: unknown): boolean {
  const failure = toApiFailure(error);
  return isTransient(failure) || failure.code === "TOO_MANY_REQUESTS" || isRefusedBatch(error);
}

/** How long to wait before loading again: the backoff, but never sooner than the server asked. */
export function retryDelayMs(error: unknown, backoffMs: number): number {
  const { retryAfterSeconds } = toApiFailure(error);
  return retryAfterSeconds ? Math.max(backoffMs, retryAfterSeconds * 1000) : backoffMs;
}

/** "30 seconds", "2 minutes", "1 hour". */
export function formatWait(seconds: number): string {
  if (seconds < 60) {
    const s = Math.max(1, Math.ceil(seconds));
    return `${s} second${s === 1 ? "" : "s"}`;
  }
  if (seconds < 3600) {
    const m = Math.ceil(seconds / 60);
    return `${m} minute${m === 1 ? "" : "s"}`;
  }
  const h = Math.ceil(seconds / 3600);
  return `${h} hour${h === 1 ? "" : "s"}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]?.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function tryAgainLater(failure: ApiFailure): string {
  return failure.retryAfterSeconds ? `Try again in ${formatWait(failure.retryAfterSeconds)}.` : "Try again in a little while.";
}

export const OFFLINE_MESSAGE = "Can't reach Parley right now. Check your connection and try again.";
export const UNEXPECTED_MESSAGE = "Something went wrong on our side. Please try again.";
export const SESSION_ENDED_MESSAGE = "Your session has ended. Please log in again.";
export const ACCOUNT_DEACTIVATED_MESSAGE = "Your account has been deactivated. Ask an admin of this server if you need it back.";

/** What to tell someone whose session the server refused: why, when it said. */
export function sessionEndedNotice(failure: ApiFailure): string {
  return failure.reason === "account_deactivated" ? ACCOUNT_DEACTIVATED_MESSAGE : SESSION_ENDED_MESSAGE;
}

export type AuthField = "username" | "password" | "fullName";

export interface FormErrors {
  /** A message for the whole form, or null. */
  form: string | null;
  fields: Partial<Record<AuthField, string>>;
}

export function describeAuthError(error: unknown, mode: "login" | "signup"): FormErrors {
  const failure = toApiFailure(error);
  switch (failure.code) {
    case "CONFLICT":
      return { form: null, fields: { username: "That username is taken. Try another one." } };
    case "UNAUTHORIZED":
      if (failure.reason === "account_deactivated") return { form: ACCOUNT_DEACTIVATED_MESSAGE, fields: {} };
      return { form: mode === "login" ? "Wrong username or password." : UNEXPECTED_MESSAGE, fields: {} };
    case "FORBIDDEN":
      // A signup the server's mode or the invite does not allow: its message says which, in words.
      return { form: failure.reason && error instanceof Error ? sentence(error.message) : UNEXPECTED_MESSAGE, fields: {} };
    case "TOO_MANY_REQUESTS":
      return { form: `Too many attempts. ${tryAgainLater(failure)}`, fields: {} };
    case "BAD_REQUEST": {
      const fields: FormErrors["fields"] = {};
      const other: string[] = [];
      for (const issue of failure.issues) {
        if (issue.path === "username" || issue.path === "password" || issue.path === "fullName") fields[issue.path] ??= sentence(issue.message);
        else other.push(sentence(issue.message));
      }
      const form = other.length > 0 ? other.join(" ") : Object.keys(fields).length === 0 ? "Please check what you entered." : null;
      return { form, fields };
    }
    case null:
      return { form: OFFLINE_MESSAGE, fields: {} };
    default:
      return { form: UNEXPECTED_MESSAGE, fields: {} };
  }
}

export interface SendFailure {
  /** Worth retrying by itself (after a reconnect); otherwise the person decides. */
  transient: boolean;
  message: string;
}

export function describeSendError(error: unknown, maxLength: number): SendFailure {
  const failure = toApiFailure(error);
  if (isTransient(failure)) return { transient: true, message: "Not sent: no connection." };
  // "No such upload", "Upload … is already attached": a file of the message is gone (swept after a day unsent).
  const message = error instanceof Error ? error.message : "";
  if ((failure.code === "NOT_FOUND" || failure.code === "BAD_REQUEST") && /\bupload\b/i.test(message)) {
    return { transient: false, message: "Not sent: one of its files is no longer available. Attach it again." };
  }
  switch (failure.code) {
    case "BAD_REQUEST": {
      const tooLong = failure.issues.some((i) => i.path === "content" && /\d/.test(i.message));
      if (tooLong) return { transient: false, message: `Not sent: a message can be at most ${formatCount(maxLength)} characters.` };
      return { transient: false, message: "Not sent: the message was not accepted." };
    }
    case "FORBIDDEN":
      return { transient: false, message: "Not sent: you are not a member of this conversation." };
    case "NOT_FOUND":
      return { transient: false, message: "Not sent: this conversation no longer exists." };
    case "TOO_MANY_REQUESTS":
      // Goes out by itself once the server's wait is over (the sender waits at least that long).
      return { transient: true, message: "Not sent: too many messages at once." };
    case "UNAUTHORIZED":
      return { transient: false, message: "Not sent: you are logged out." };
    // No code, or one this client does not know.
    case null:
    default:
      return { transient: false, message: `Not sent. ${UNEXPECTED_MESSAGE}` };
  }
}

/** For loading and creating conversations. */
export function describeError(error: unknown): string {
  const failure = toApiFailure(error);
  switch (failure.code) {
    case null:
      return OFFLINE_MESSAGE;
    case "FORBIDDEN":
      return "You are not allowed to see this conversation.";
    case "NOT_FOUND":
      return "This conversation does not exist.";
    case "UNAUTHORIZED":
      return SESSION_ENDED_MESSAGE;
    case "TOO_MANY_REQUESTS":
      return `Too many requests. ${tryAgainLater(failure)}`;
    case "BAD_REQUEST":
      return failure.issues.length > 0 ? failure.issues.map((i) => sentence(i.message)).join(" ") : "That request was not accepted.";
    default:
      return UNEXPECTED_MESSAGE;
  }
}
