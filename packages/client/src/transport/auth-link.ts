// Puts a fresh access token on every HTTP call, and after an UNAUTHORIZED refreshes it and tries the
// call once more. Subscriptions pass through: the WebSocket authenticates with connectionParams.
import type { TRPCLink } from "@trpc/client";
import { observable, type Unsubscribable } from "@trpc/server/observable";
import type { AppRouter } from "@parley/api";
import { isUnauthorized } from "../errors";

export interface TokenSource {
  /** A token that is not about to expire, or null when signed out. */
  accessToken(): Promise<string | null>;
  /** Replaces a refused token; null when the session has ended. */
  refresh(staleToken: string | null): Promise<string | null>;
}

/** Procedures that need no token, and whose UNAUTHORIZED means something else (wrong password). */
const PUBLIC_PATHS = new Set(["auth.signup", "auth.login", "auth.refresh", "auth.logout"]);

/** The token an HTTP call carries, set by this link for httpBatchLink's headers(). */
export function tokenOf(context: Record<string, unknown>): string | null {
  return typeof context.accessToken === "string" ? context.accessToken : null;
}

export function authLink(tokens: TokenSource): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        if (op.type === "subscription" || PUBLIC_PATHS.has(op.path)) return next(op).subscribe(observer);

        let stopped = false;
        let inner: Unsubscribable | null = null;
        const run = (token: string | null, isRetry: boolean) => {
          if (stopped) return;
          inner = next({ ...op, context: { ...op.context, accessToken: token } }).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (isRetry || !isUnauthorized(error)) {
                observer.error(error);
                return;
              }
              tokens.refresh(token).then(
                (fresh) => (fresh ? run(fresh, true) : observer.error(error)),
                () => observer.error(error),
              );
            },
          });
        };
        tokens.accessToken().then(
          (token) => run(token, false),
          () => run(null, false),
        );
        return () => {
          stopped = true;
          inner?.unsubscribe();
        };
      });
}
