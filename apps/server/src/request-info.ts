import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { TrustProxy } from "./config.js";
import type { Logger } from "./log.js";

/**
 * The caller's address: the socket's, or behind trusted proxies the address the outermost trusted
 * proxy saw - read from the right of X-Forwarded-For, because the client writes the left of it.
 */
export function clientAddressOf(req: IncomingMessage, trustProxy: TrustProxy): string {
  const peer = plainAddress(req.socket.remoteAddress ?? "unknown");
  const forwarded = req.headers["x-forwarded-for"];
  if (!trustProxy || typeof forwarded !== "string") return peer;
  // Nearest hop first: the socket's peer, then X-Forwarded-For from its right end.
  const hops = [peer, ...forwarded.split(",").map((entry) => plainAddress(entry.trim())).reverse()];
  let index: number;
  if ("hops" in trustProxy) {
    index = Math.min(trustProxy.hops, hops.length - 1);
  } else {
    index = 0;
    while (index < hops.length - 1 && isTrusted(trustProxy.proxies, hops[index] ?? "")) index += 1;
  }
  const address = hops[index] ?? peer;
  // A proxy that appended something other than an address is misconfigured: fall back to what we know.
  return isIP(address) ? address : peer;
}

/** "::ffff:10.0.0.1" is 10.0.0.1: one client, one key, whichever way the socket reports it. */
function plainAddress(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isTrusted(proxies: { check(address: string, type?: "ipv4" | "ipv6"): boolean }, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 6 ? "ipv6" : "ipv4");
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** tRPC's onError: internal errors are logged in full here, and reach clients only as "Internal server error". */
export function reportInternalError(log: Logger) {
  return ({ error, path }: { error: { code: string; message: string; cause?: unknown }; path?: string | undefined }) => {
    if (error.code !== "INTERNAL_SERVER_ERROR") return;
    const cause = error.cause ?? error;
    // The ws library's own protocol errors (a frame too large, invalid UTF-8) are the client's
    // mistake; the connection is already closed with the right code.
    if (isWebSocketProtocolError(cause)) log.info("ws protocol error", { cause: describeError(cause) });
    else log.error("procedure failed", { path, cause: describeError(cause) });
  };
}

function isWebSocketProtocolError(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && error.code.startsWith("WS_ERR_");
}
