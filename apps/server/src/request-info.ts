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
    if (error.code === "INTERNAL_SERVER_ERROR") log.error("procedure failed", { path, cause: describeError(error.cause ?? error) });
  };
}
