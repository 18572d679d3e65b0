// When to refresh an access token. Times are measured from the moment this browser received the
// token, using the token's own lifetime (exp - iat), so a wrong clock on the user's machine can
// neither make every token look expired (a refresh loop) nor let one expire unnoticed.
import { decodeJwtClaims } from "./jwt";

/** Refresh at most this long before expiry... */
export const MAX_REFRESH_LEAD_MS = 60_000;
/** ...and, for short-lived tokens, when this share of the lifetime is left. */
export const REFRESH_LEAD_SHARE = 0.2;
/** Browsers run timers of at most 2^31-1 ms; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TokenTiming {
  /** Lifetime of the token, from the server's iat to exp. */
  lifetimeMs: number;
  /** Local clock (ms) when the token was received. */
  receivedAt: number;
}

export function tokenTiming(accessToken: string, receivedAt: number): TokenTiming | null {
  const claims = decodeJwtClaims(accessToken);
  if (claims?.exp === undefined) return null;
  // Without iat, fall back to the local clock, which is the best that is known.
  const lifetimeMs = claims.iat !== undefined ? (claims.exp - claims.iat) * 1000 : claims.exp * 1000 - receivedAt;
  return { lifetimeMs: Math.max(0, lifetimeMs), receivedAt };
}

/** Local time (ms) at which the token should be replaced. */
export function refreshAt(timing: TokenTiming): number {
  const lead = Math.min(MAX_REFRESH_LEAD_MS, timing.lifetimeMs * REFRESH_LEAD_SHARE);
  return timing.receivedAt + timing.lifetimeMs - lead;
}

export function isRefreshDue(timing: TokenTiming | null, now: number): boolean {
  return timing === null || now >= refreshAt(timing);
}

/** Milliseconds to wait before refreshing; 0 when it is due already. */
export function refreshDelay(timing: TokenTiming | null, now: number): number {
  if (timing === null) return 0;
  return Math.min(MAX_TIMER_MS, Math.max(0, refreshAt(timing) - now));
}
