// Limits on each WebSocket connection, applied before tRPC sees a frame. tRPC's adapter has no
// hooks for these, so the guard wraps the socket's emit (incoming frames) and send (outgoing).
// Limits are decided on the frame as parsed, and tRPC is handed that same parse (decodeFrame).
import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Encoder } from "@trpc/server/adapters/ws";
import { MAX_CALLS_PER_BATCH } from "@parley/api/limits";

export interface WsLimits {
  /** Sustained incoming frames per second, and the burst allowed above it; a batch counts once per call. */
  framesPerSecond: number;
  frameBurst: number;
  /** Calls in one batched frame (a JSON array). */
  maxBatch: number;
  /** A client that announced connection parameters must send them within this time. */
  connectionParamsTimeoutMs: number;
  /** Bytes queued for a client that does not read; past this it is cut off. */
  maxBufferedBytes: number;
  /** A connection that has not authenticated (no valid token) is closed after this; public calls work until then. */
  authTimeoutMs: number;
  /** Open WebSocket connections per instance; past it upgrades are refused with 503 (keeps file descriptors for the rest). */
  maxConnections: number;
  /** Open connections of one user; past it the new one is closed with 4008. */
  maxConnectionsPerUser: number;
  /** Open connections from one client address (offices share one); past it upgrades are refused with 429. */
  maxConnectionsPerAddress: number;
}

export const defaultWsLimits: WsLimits = {
  framesPerSecond: 20,
  frameBurst: 60,
  maxBatch: MAX_CALLS_PER_BATCH,
  connectionParamsTimeoutMs: 5_000,
  maxBufferedBytes: 1024 * 1024,
  authTimeoutMs: 10_000,
  maxConnections: 1_000,
  maxConnectionsPerUser: 20,
  maxConnectionsPerAddress: 100,
};

/** Close codes: 1008 policy violation (RFC 6455); 4000-4999 are Parley's own. */
export const CloseCode = {
  policy: 1008,
  tokenExpired: 4001,
  sessionEnded: 4003,
  /** An admin deactivated the account: the client should not reconnect with this session. */
  accountDeactivated: 4004,
  /** The user already has as many connections open as allowed. */
  tooManyConnections: 4008,
} as const;

/** The violation of a connection over its frame rate (a rate limit; the others are misuse). */
export const FRAME_RATE_EXCEEDED = "too many messages";

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
type Send = WebSocket["send"];

export function guardSocket(socket: WebSocket, req: IncomingMessage, limits: WsLimits, onViolation: (reason: string) => void): void {
  const expectsParams = new URL(req.url ?? "/", "http://local").searchParams.get("connectionParams") === "1";
  let waitingForParams = expectsParams;
  // One log line per kind of violation per connection: a socket being cut off keeps getting frames.
  const reported = new Set<string>();
  let cutOff = false;
  const report = (reason: string) => {
    if (reported.has(reason)) return;
    reported.add(reason);
    onViolation(reason);
  };
  const violate = (reason: string) => {
    report(reason);
    cutOff = true;
    socket.close(CloseCode.policy, reason);
  };
  const paramsTimer = expectsParams
    ? setTimeout(() => {
        if (waitingForParams) violate("connection parameters not sent");
      }, limits.connectionParamsTimeoutMs)
    : null;
  socket.once("close", () => {
    if (paramsTimer) clearTimeout(paramsTimer);
  });

  let tokens = limits.frameBurst;
  let refilledAt = performance.now();
  const emit = socket.emit.bind(socket) as Emit;
  const guardedEmit: Emit = (event, ...args) => {
    if (event !== "message") return emit(event, ...args);
    // Closing: nothing more reaches tRPC.
    if (cutOff) return false;
    const now = performance.now();
    tokens = Math.min(limits.frameBurst, tokens + ((now - refilledAt) / 1000) * limits.framesPerSecond);
    refilledAt = now;
    if (tokens < 1) {
      violate(FRAME_RATE_EXCEEDED);
      return false;
    }
    tokens -= 1;
    const [data, isBinary] = args;
    if (isBinary === true || !Buffer.isBuffer(data)) return emit(event, ...args);
    const text = data.toString("utf8");
    if (text === "PING" || text === "PONG") return emit(event, ...args);
    waitingForParams = false;
    const parsed = parseFrame(text);
    // tRPC runs every element of an array as a call, whatever white space surrounds it.
    const calls = parsed.ok && Array.isArray(parsed.value) ? parsed.value.length : 1;
    if (calls > limits.maxBatch) {
      violate("too many calls in one message");
      return false;
    }
    // The rate is of calls: a batch costs one per call (the frame paid for the first).
    if (calls > 1 && tokens < calls - 1) {
      violate(FRAME_RATE_EXCEEDED);
      return false;
    }
    tokens -= Math.max(0, calls - 1);
    parsedFrame = parsed.ok ? { text, value: parsed.value } : null;
    try {
      return emit(event, ...args);
    } finally {
      parsedFrame = null;
    }
  };
  socket.emit = guardedEmit as typeof socket.emit;

  const send = socket.send.bind(socket) as (...args: Parameters<Send>) => void;
  const transport = transportOf(socket);
  socket.send = ((...args: Parameters<Send>) => {
    // Cut off: frames still produced for it (a busy room) are dropped, not queued or logged again.
    if (cutOff) return;
    if (transport) holdUntilEndOfTurn(transport);
    send(...args);
    // A client that stopped reading: its queue would grow without bound.
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      report("slow consumer");
      cutOff = true;
      socket.terminate();
    }
  }) as Send;
}

/**
 * The frame the guard just parsed and checked, while tRPC handles it: tRPC's adapter decodes the
 * text it gets from the same buffer synchronously inside emit, so it gets the guard's parse instead
 * of parsing again - and the limits were decided on exactly what it runs.
 */
let parsedFrame: { text: string; value: unknown } | null = null;

function parseFrame(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Decodes incoming frames for tRPC: the guard's parse of the frame at hand, else JSON.parse. */
export function decodeFrame(data: Parameters<Encoder["decode"]>[0]): unknown {
  if (parsedFrame !== null && parsedFrame.text === data) return parsedFrame.value;
  if (typeof data !== "string") throw new Error("JSON frames are text");
  return JSON.parse(data) as unknown;
}

// Frames sent to one socket in the same turn of the event loop (a batch of messages for a busy
// room) leave in one write instead of one system call each. The first frame of a turn goes out at
// once - most sockets get one - and a second one corks the socket until the turn's work is done.
const sentThisTurn = new Set<Duplex>();
const held: Duplex[] = [];
let endOfTurnScheduled = false;

function holdUntilEndOfTurn(transport: Duplex): void {
  if (!sentThisTurn.has(transport)) {
    sentThisTurn.add(transport);
    if (!endOfTurnScheduled) {
      endOfTurnScheduled = true;
      setImmediate(endTurn);
    }
    return;
  }
  if (transport.writableCorked === 0) {
    transport.cork();
    held.push(transport);
  }
}

function endTurn(): void {
  endOfTurnScheduled = false;
  sentThisTurn.clear();
  for (const transport of held) transport.uncork();
  held.length = 0;
}

/** The TCP (or TLS) socket under a ws WebSocket; ws keeps it in `_socket`. */
function transportOf(socket: WebSocket): Duplex | null {
  const transport = (socket as unknown as { _socket?: unknown })._socket;
  return transport instanceof Duplex ? transport : null;
}

/**
 * Browsers send Origin on the upgrade; a page of another site must not be able to open a socket
 * with the user's cookies or tokens. Allowed: no Origin (non-browser clients), the server's own
 * origin, the configured origins, and localhost while developing.
 */
export function isOriginAllowed(req: IncomingMessage, allowed: readonly string[], allowLocalhost: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.host === req.headers.host) return true;
  return allowLocalhost && (url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]");
}
