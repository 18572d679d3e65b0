// /files over plain HTTP (not tRPC): the upload's body is the raw file, streamed to the file store
// (a browser's XHR reports upload progress for a raw body), and downloads are streamed back from it
// under signed URLs. The rules - who may upload, what is stored, what a URL opens - are packages/api's
// FileService; this module reads the request, maps its DomainErrors to status codes and sets the
// headers that keep a served file inert in Parley's origin.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { authenticatedUserId, contentDisposition, DomainError, FILE_VARIANTS, type DomainErrorKind, type FileVariant, type Services } from "@parley/api";
import type { Logger } from "./log.js";

const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
};

/** A served file can neither run script nor load anything, even if a browser were to render it. */
const FILE_CSP = "default-src 'none'; sandbox";
/** Attachment ids are cuids: nothing to decode. */
const DOWNLOAD_PATH = /^\/files\/([A-Za-z0-9_-]{1,64})\/([a-z]+)$/;
/** The longest conversationId and name accepted in the query string. */
const MAX_ID_LENGTH = 64;
const MAX_NAME_LENGTH = 1024;

export function isFileRoute(pathname: string): boolean {
  return pathname === "/files" || pathname.startsWith("/files/");
}

export async function handleFileRoute(req: IncomingMessage, res: ServerResponse, url: URL, services: Services, log: Logger): Promise<void> {
  try {
    if (url.pathname === "/files") {
      if (req.method !== "POST") return answerError(res, 405, "Use POST to upload a file", { Allow: "POST" });
      await upload(req, res, url, services);
      return;
    }
    const match = DOWNLOAD_PATH.exec(url.pathname);
    const variant = match?.[2];
    if (!match?.[1] || !isVariant(variant)) return answerError(res, 404, "No such file");
    if (req.method !== "GET" && req.method !== "HEAD") return answerError(res, 405, "Use GET to download a file", { Allow: "GET, HEAD" });
    await download(req, res, match[1], variant, url, services);
  } catch (error) {
    if (error instanceof DomainError) {
      const retry: Record<string, string> = error.retryAfterSeconds ? { "Retry-After": String(error.retryAfterSeconds) } : {};
      return answerError(res, STATUS_OF[error.kind], error.message, retry);
    }
    log.error({ err: error, path: url.pathname }, "file request failed");
    answerError(res, 500, "Internal server error");
  }
}

async function upload(req: IncomingMessage, res: ServerResponse, url: URL, services: Services): Promise<void> {
  const userId = authenticatedUserId(services, bearerToken(req.headers.authorization));
  if (!userId) return answerError(res, 401, "Missing, invalid or expired token");
  const conversationId = url.searchParams.get("conversationId") ?? "";
  const name = url.searchParams.get("name") ?? "";
  if (conversationId === "" || conversationId.length > MAX_ID_LENGTH) return answerError(res, 400, "conversationId must be given (1 to 64 characters)");
  if (name.length > MAX_NAME_LENGTH) return answerError(res, 400, `name must be at most ${MAX_NAME_LENGTH} characters`);
  const length = req.headers["content-length"];
  const declaredLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
  const attachment = await services.files.upload({ userId, conversationId, name, declaredLength, body: req });
  res.writeHead(201, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(attachment));
}

async function download(req: IncomingMessage, res: ServerResponse, attachmentId: string, variant: FileVariant, url: URL, services: Services): Promise<void> {
  const file = await services.files.download(attachmentId, variant, url.searchParams.get("exp"), url.searchParams.get("sig"));
  res.writeHead(200, {
    "Content-Type": file.contentType,
    "Content-Length": String(file.size),
    "Content-Disposition": contentDisposition(file.inline ? "inline" : "attachment", file.name),
    "Content-Security-Policy": FILE_CSP,
    "Cache-Control": `private, max-age=${file.maxAgeSeconds}`,
  });
  if (req.method === "HEAD") {
    file.stream.destroy();
    res.end();
    return;
  }
  // A client that goes away ends the stream; nothing to answer then.
  await pipeline(file.stream, res).catch(() => undefined);
}

function isVariant(value: string | undefined): value is FileVariant {
  return (FILE_VARIANTS as readonly string[]).includes(value ?? "");
}

/**
 * An error as JSON. `Connection: close`: an upload refused before (or while) its body was read
 * leaves bytes in flight that this connection must not read as the next request.
 */
function answerError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", Connection: "close", ...headers });
  res.end(JSON.stringify({ error: { message, status } }));
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}
