// Uploads one file to POST /files: the raw file as the body, so that XMLHttpRequest reports upload
// progress (fetch cannot), and abort() cancels it. A refused token is refreshed once through the
// session and the upload tried again, as authLink does for tRPC calls. Failures come back as an
// UploadError whose message is for people.
import type { TokenSource } from "../transport/auth-link";
import type { Attachment } from "../types";
import { formatBytes } from "./format-bytes";

/** The server's default limit (MAX_UPLOAD_BYTES); a 413's message names the configured one. */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export type UploadErrorKind = "too_large" | "cancelled" | "network" | "unauthorized" | "rate_limited" | "refused";

export class UploadError extends Error {
  constructor(
    readonly kind: UploadErrorKind,
    message: string,
    /** For rate_limited: how long the server asked to wait. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "UploadError";
  }
}

/** The part of XMLHttpRequest an upload uses (a test passes a fake). */
export interface UploadRequest {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  getResponseHeader(name: string): string | null;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
}

export interface UploadOptions {
  baseUrl: string;
  conversationId: string;
  file: Blob;
  name: string;
  tokens: TokenSource;
  /** Bytes sent so far, of `total`. */
  onProgress?(sent: number, total: number): void;
  /** Aborting cancels the upload (an UploadError of kind "cancelled"). */
  signal?: AbortSignal;
  /** XMLHttpRequest by default. */
  createRequest?(): UploadRequest;
}

interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

export async function uploadFile(options: UploadOptions): Promise<Attachment> {
  const { tokens, signal } = options;
  if (signal?.aborted) throw cancelled(options.name);
  const token = await tokens.accessToken();
  let answer = await send(options, token);
  if (answer.status === 401) {
    const fresh = await tokens.refresh(token).catch(() => null);
    if (fresh) answer = await send(options, fresh);
  }
  if (answer.status === 201 || answer.status === 200) return JSON.parse(answer.body) as Attachment;
  throw describeUploadFailure(options.name, answer);
}

function send(options: UploadOptions, token: string | null): Promise<Answer> {
  const { baseUrl, conversationId, file, name, signal, onProgress } = options;
  const request = options.createRequest?.() ?? (new XMLHttpRequest() as unknown as UploadRequest);
  const url = new URL("/files", baseUrl);
  url.searchParams.set("conversationId", conversationId);
  url.searchParams.set("name", name);
  return new Promise<Answer>((resolve, reject) => {
    const onAbort = () => request.abort();
    const done = () => signal?.removeEventListener("abort", onAbort);
    request.open("POST", url.toString());
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (event) => onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onload = () => {
      done();
      resolve({ status: request.status, body: request.responseText, retryAfter: request.getResponseHeader("Retry-After") });
    };
    request.onerror = () => {
      done();
      reject(new UploadError("network", `${name} was not uploaded: can't reach Parley. Check your connection and try again.`));
    };
    request.onabort = () => {
      done();
      reject(cancelled(name));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    request.send(file);
  });
}

function cancelled(name: string): UploadError {
  return new UploadError("cancelled", `The upload of ${name} was cancelled.`);
}

/** The server's `{ error: { message } }`, or null. */
function serverMessage(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    return typeof parsed.error?.message === "string" ? parsed.error.message : null;
  } catch {
    return null;
  }
}

export function describeUploadFailure(name: string, answer: Answer): UploadError {
  const message = serverMessage(answer.body);
  switch (answer.status) {
    case 413: {
      // "The file is larger than the limit of N bytes": the limit this server is configured with.
      const limit = Number(/(\d+) bytes/.exec(message ?? "")?.[1] ?? DEFAULT_MAX_UPLOAD_BYTES);
      return new UploadError("too_large", `${name} is larger than the ${formatBytes(limit)} limit.`);
    }
    case 401:
      return new UploadError("unauthorized", `${name} was not uploaded: you are logged out.`);
    case 429: {
      const seconds = Number(answer.retryAfter);
      return new UploadError("rate_limited", `${name} was not uploaded: too many uploads at once.`, Number.isFinite(seconds) && seconds > 0 ? seconds : 1);
    }
    case 0:
    case 500:
    case 502:
    case 503:
    case 504:
      return new UploadError("network", `${name} was not uploaded: Parley could not take it right now. Try again.`);
    default:
      return new UploadError("refused", `${name} was not uploaded${message ? `: ${message.replace(/\.$/, "")}` : ""}.`);
  }
}
