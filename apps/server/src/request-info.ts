import type { IncomingMessage } from "node:http";
import type { Logger } from "./log.js";

/** The caller's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientAddressOf(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string") return forwarded.split(",")[0]?.trim() || "unknown";
  return req.socket.remoteAddress ?? "unknown";
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
