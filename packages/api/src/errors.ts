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

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Seconds until a rate-limited call may be tried again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const BAD_CREDENTIALS = "Wrong username or password";
export const BAD_TOKEN = "Missing, invalid or expired token";
