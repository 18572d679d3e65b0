// The one domain error type. Domain code throws it; trpc.ts maps it to a tRPC error code in one place.
export type DomainErrorKind =
  | "invalid"
  | "conflict"
  | "unauthenticated"
  | "not_found"
  | "forbidden"
  | "rate_limited"
  /** An upload over the size limit. */
  | "too_large";

/**
 * A machine-readable why, for a refusal a client must tell apart from others of the same code (sent
 * as the error's `data.reason`).
 */
export type DomainErrorReason =
  /** Login or refresh of an account an admin deactivated. */
  | "account_deactivated"
  /** A signup the deployment's signup mode does not allow ("invite" without an invite, "closed"). */
  | "signup_not_allowed"
  /** A signup with an invite that is unknown, expired, revoked or used up. */
  | "invite_invalid";

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Seconds until a rate-limited call may be tried again. */
    readonly retryAfterSeconds?: number,
    readonly reason?: DomainErrorReason,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const BAD_CREDENTIALS = "Wrong username or password";
export const BAD_TOKEN = "Missing, invalid or expired token";
export const ACCOUNT_DEACTIVATED = "This account has been deactivated. Ask an admin of this server to reactivate it.";
