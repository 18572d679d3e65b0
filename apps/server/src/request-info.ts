import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { TrustProxy } from "./config.js";
import type { Logger } from "@parley/api";

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

/** A proxy's or client's request id is kept when it is a short, plain token; anything else is replaced. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The id a request's log lines carry: the caller's X-Request-Id when safe to log, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * tRPC's onError: internal errors are logged in full here (stack included), through the request's
 * or connection's logger when there is one, and reach clients only as "Internal server error".
 */
export function reportInternalError(log: Logger) {
  return ({ error, path, ctx }: { error: { code: string; message: string; cause?: unknown }; path?: string | undefined; ctx?: { log: Logger } | undefined }) => {
    if (error.code !== "INTERNAL_SERVER_ERROR") return;
    const cause = error.cause ?? error;
    const lineLog = ctx?.log ?? log;
    // The ws library's own protocol errors (a frame too large, invalid UTF-8) are the client's
    // mistake; the connection is already closed with the right code.
    if (isWebSocketProtocolError(cause)) lineLog.info({ err: cause }, "ws protocol error");
    else lineLog.error({ path, err: cause }, "procedure failed");
  };
}

function isWebSocketProtocolError(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && error.code.startsWith("WS_ERR_");
}
