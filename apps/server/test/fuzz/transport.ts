// Below @trpc/client: raw HTTP requests and raw WebSocket frames, and the checks every answer must
// pass (no 5xx, nothing that reveals how the server is built).
import http from "node:http";
import WebSocket from "ws";
import { TEST_JWT_SECRET } from "../harness.js";

export type FindingKind = "5xx" | "crash" | "leak" | "data" | "hang" | "authz" | "status" | "resource";

export interface Finding {
  kind: FindingKind;
  detail: string;
}

/** What the server answered, by kind ("HTTP 400", "WS BAD_REQUEST", "WS close 1009"): shows what the inputs reached. */
export const answersSeen = new Map<string, number>();

function seen(key: string): void {
  answersSeen.set(key, (answersSeen.get(key) ?? 0) + 1);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Things no answer may contain, unless the client itself sent them (an echoed path, say). */
const LEAK_PATTERNS: [string, RegExp][] = [
  ["stack frame", /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+/g],
  ["stack property", /"stack"\s*:/g],
  ["file path", /\/work\/|\/home\/|\/tmp\/|\/usr\/(?:lib|local)|node_modules|node:internal|[A-Za-z]:\\\\/g],
  ["source location", /\.(?:ts|js|mjs|cjs):\d+/g],
  ["prisma", /prisma/gi],
  ["SQL", /\b(?:SELECT\s[^"]{0,200}?\sFROM|INSERT\s+INTO|UPDATE\s[^"]{0,100}?\sSET|DELETE\s+FROM)\b/gi],
  ["database error", /SQLITE_|SqliteError|DriverAdapterError|better-sqlite3|duplicate key value|violates \w+ (?:key )?constraint|invalid byte sequence|hex escape/gi],
  ["argon2 hash", /\$argon2/g],
  ["password hash field", /passwordHash/gi],
  ["JWT secret", new RegExp(escapeRegExp(TEST_JWT_SECRET), "g")],
];

const SERVER_ERROR_MARKERS = /"httpStatus"\s*:\s*5\d\d|"code"\s*:\s*-32603|Internal server error/;

function decodedVariants(text: string): string {
  const variants = [text];
  try {
    variants.push(decodeURIComponent(text));
  } catch {
    // Not percent-encoded: the text as sent is all there is.
  }
  variants.push(text.replace(/\+/g, " "));
  return variants.join("\n").toLowerCase();
}

/**
 * Checks one answer (a body, a frame) against what was sent. `sent` is everything the client sent,
 * so that an error message quoting the client's own path or content type is not taken for a leak.
 */
export function inspect(where: string, answer: string, sent: string): Finding[] {
  const findings: Finding[] = [];
  const echoed = decodedVariants(sent);
  for (const [name, pattern] of LEAK_PATTERNS) {
    for (const match of answer.matchAll(pattern)) {
      if (echoed.includes(match[0].toLowerCase())) continue;
      findings.push({ kind: "leak", detail: `${where}: ${name} ${JSON.stringify(match[0])} in ${JSON.stringify(answer.slice(0, 400))}` });
      break;
    }
  }
  if (SERVER_ERROR_MARKERS.test(answer)) findings.push({ kind: "5xx", detail: `${where}: internal error in ${JSON.stringify(answer.slice(0, 300))}` });
  return findings;
}

export interface HttpRequest {
  method: string;
  /** Path and query, already encoded as it goes on the wire. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent in pieces with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** Another loopback address (127.0.0.2) is another client to the per-address limits. */
  localAddress?: string;
}

export type HttpAnswer = { status: number; contentType: string; body: string } | { error: string };

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** How long an event stream is read before the client walks away (a live subscription never ends). */
const STREAM_READ_MS = 150;

export function describeRequest(request: HttpRequest): string {
  const body = request.body ? request.body.toString("utf8") : "";
  return `${request.method} ${request.target} ${JSON.stringify(request.headers)} ${body.length > 2000 ? `${body.slice(0, 2000)}...(${body.length} bytes)` : body}`;
}

export function sendHttp(baseUrl: string, request: HttpRequest, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const timer = setTimeout(() => {
      req.destroy();
      settle({ error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    const headers: Record<string, string> = { ...request.headers };
    if (request.body && !request.chunked) headers["content-length"] = String(request.body.length);
    let req: http.ClientRequest;
    try {
      // The target goes on the wire as it is: a URL object would normalize "/../" and "%2e%2e" away.
      const { hostname, port } = new URL(baseUrl);
      const localAddress = request.localAddress ? { localAddress: request.localAddress } : {};
      req = http.request({ host: hostname, port, path: request.target, method: request.method, headers, agent, ...localAddress });
    } catch (error) {
      // The client library refused to send it (an invalid header, say): nothing reached the server.
      clearTimeout(timer);
      resolve({ error: `not sent: ${String(error)}` });
      return;
    }
    req.on("error", (error) => settle({ error: `request failed: ${error.message}` }));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const contentType = String(res.headers["content-type"] ?? "");
      const finish = () => {
        if (!settled) seen(`HTTP ${res.statusCode ?? 0}`);
        settle({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString("utf8") });
      };
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 1024 * 1024) chunks.push(chunk);
      });
      res.on("end", finish);
      res.on("error", finish);
      res.on("close", finish);
      if (contentType.includes("text/event-stream")) {
        setTimeout(() => {
          finish();
          res.destroy();
        }, STREAM_READ_MS);
      }
    });
    if (request.body && request.chunked) {
      const step = Math.max(1, Math.ceil(request.body.length / 4));
      for (let offset = 0; offset < request.body.length; offset += step) req.write(request.body.subarray(offset, offset + step));
    } else if (request.body) {
      req.write(request.body);
    }
    req.end();
  });
}

/** A text frame, a binary frame, or bytes sent as a text frame (possibly not UTF-8). */
export type Frame = { text: string } | { binary: Buffer } | { rawText: Buffer };

export interface WsSession {
  query: string;
  origin?: string | undefined;
  frames: Frame[];
  /** Request ids whose answer must arrive (unless the server closes the connection). */
  expectedIds: (string | number)[];
  /** Frames the server must answer with an error of id null (unless it closes the connection). */
  expectedNullErrors: number;
  /** "PING" frames: each must get a "PONG". */
  expectedPongs: number;
}

export interface WsOutcome {
  received: string[];
  closeCode: number | null;
  /** The upgrade was refused with this HTTP status. */
  refusedWith: number | null;
  /** What was still missing when the wait ran out; null when everything expected arrived or the server closed. */
  missing: string | null;
  error: string | null;
}

/** Opens a connection, sends the frames, and waits for every expected answer or for the server to close. */
export function runWsSession(url: string, session: WsSession, waitMs = 2_000): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const outcome: WsOutcome = { received: [], closeCode: null, refusedWith: null, missing: null, error: null };
    const answeredIds = new Set<string>();
    let nullErrors = 0;
    let pongs = 0;
    const pending = () => {
      const ids = session.expectedIds.filter((id) => !answeredIds.has(JSON.stringify(id)));
      const parts = [];
      if (ids.length > 0) parts.push(`answers to ids ${ids.map((id) => JSON.stringify(id)).join(", ")}`);
      if (nullErrors < session.expectedNullErrors) parts.push(`${session.expectedNullErrors - nullErrors} error frame(s) for malformed frames`);
      if (pongs < session.expectedPongs) parts.push("PONG");
      return parts.length > 0 ? parts.join("; ") : null;
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(grace);
      if (outcome.closeCode === null && outcome.refusedWith === null && outcome.error === null) outcome.missing = pending();
      if (outcome.refusedWith !== null) seen(`WS upgrade refused ${outcome.refusedWith}`);
      if (outcome.closeCode !== null) seen(`WS close ${outcome.closeCode}`);
      socket.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(finish, waitMs);
    // Frames nobody has to answer (a subscription.stop, say) may still draw an error: listen a moment longer.
    let grace: NodeJS.Timeout | undefined;
    const settleSoon = () => {
      clearTimeout(grace);
      grace = setTimeout(finish, 25);
    };
    const socket = new WebSocket(`${url}${session.query}`, { ...(session.origin !== undefined ? { origin: session.origin } : {}), handshakeTimeout: waitMs });
    socket.on("unexpected-response", (_req, res) => {
      outcome.refusedWith = res.statusCode ?? 0;
      res.resume();
      finish();
    });
    socket.on("error", (error) => {
      if (outcome.refusedWith === null && outcome.closeCode === null) outcome.error = error.message;
      finish();
    });
    socket.on("close", (code) => {
      outcome.closeCode = code;
      finish();
    });
    socket.on("message", (data: WebSocket.RawData) => {
      const text = Buffer.isBuffer(data) ? data.toString("utf8") : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data).toString("utf8");
      outcome.received.push(text);
      if (text === "PONG") pongs += 1;
      else if (text !== "PING") {
        try {
          const parsed: unknown = JSON.parse(text);
          for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
            if (typeof message !== "object" || message === null || !("id" in message)) continue;
            const id: unknown = message.id;
            if ("error" in message && isRecord(message.error) && isRecord(message.error.data)) seen(`WS ${String(message.error.data.code)}`);
            else if ("result" in message && isRecord(message.result)) seen(`WS result ${String(message.result.type)}`);
            if (id === null && "error" in message) nullErrors += 1;
            else answeredIds.add(JSON.stringify(id));
          }
        } catch {
          // Not JSON: inspect() still looks at it.
        }
      }
      if (pending() === null) settleSoon();
    });
    socket.on("open", () => {
      for (const frame of session.frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        if ("text" in frame) socket.send(frame.text);
        else if ("binary" in frame) socket.send(frame.binary, { binary: true });
        else socket.send(frame.rawText, { binary: false });
      }
      if (pending() === null) settleSoon();
    });
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function describeSession(session: WsSession): string {
  const frames = session.frames.map((f) => {
    if ("text" in f) return f.text;
    return "binary" in f ? `<binary ${f.binary.toString("hex").slice(0, 200)}>` : `<text bytes ${f.rawText.toString("hex").slice(0, 200)}>`;
  });
  return `${session.query} origin=${session.origin ?? "-"} ${frames.map((f) => (f.length > 2000 ? `${f.slice(0, 2000)}...(${f.length})` : f)).join(" | ")}`;
}
