// The rules every live subscription obeys, whatever transport carries it: a few per connection,
// and it ends when the caller's session is revoked, the caller is deactivated, or the access token it started with expires -
// by itself, not only because the WebSocket layer happens to close the socket.
import { TRPCError } from "@trpc/server";
import type { AccessClaims } from "../auth/tokens.js";
import type { Services } from "../context.js";
import { BAD_TOKEN } from "../errors.js";
import type { ConnectionResources } from "./connection-resources.js";
import type { MessageQueue } from "./message-queue.js";

export interface LiveSubscription {
  queue: MessageQueue;
  /** Throws UNAUTHORIZED once the session was revoked or the token expired; the queue is closed then. */
  assertLive(): void;
  /** Gives back everything the subscription held. */
  release(): void;
}

/** setTimeout's longest delay; tokens live minutes, so this only guards against a wrapped timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The stream ends this long after its token expires: a transport that ends the connection at expiry
 * itself (the WebSocket closes with 4001, and the client reconnects and resumes) goes first, and this
 * is the backstop for any that does not.
 */
const EXPIRY_GRACE_MS = 1_000;

export function openLiveSubscription(
  ctx: { services: Services; auth: AccessClaims; userId: string; connection: ConnectionResources },
  signal: AbortSignal | undefined,
  options: { ephemeral?: boolean } = {},
): LiveSubscription {
  const { services, auth, userId } = ctx;
  const releaseSlot = ctx.connection.claimSubscription();
  const queue = services.hub.open(userId, options);
  queue.closeOn(signal);
  let ended = false;
  const end = () => {
    ended = true;
    queue.close();
  };
  const stopWatching = services.revokedSessions.watch(auth.sessionId, end, userId);
  const expiry = setTimeout(end, Math.min(MAX_TIMER_MS, Math.max(0, auth.expiresAt * 1000 + EXPIRY_GRACE_MS - services.clock.now().getTime())));
  expiry.unref();
  // Revoked (or the user deactivated) between the procedure's check and the watch above.
  if (services.revokedSessions.has(auth.sessionId) || services.revokedSessions.isDeactivated(userId)) end();
  return {
    queue,
    assertLive() {
      if (ended) throw new TRPCError({ code: "UNAUTHORIZED", message: BAD_TOKEN });
    },
    release() {
      clearTimeout(expiry);
      stopWatching();
      services.hub.release(userId, queue);
      releaseSlot();
    },
  };
}
