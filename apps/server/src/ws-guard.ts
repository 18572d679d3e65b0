// Limits on each WebSocket connection, applied before tRPC sees a frame. tRPC's adapter has no
// hooks for these, so the guard wraps the socket's emit (incoming frames) and send (outgoing).
import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";

export interface WsLimits {
  /** Sustained incoming frames per second, and the burst allowed above it. */
  framesPerSecond: number;
  frameBurst: number;
  /** Calls in one batched frame (a JSON array). */
  maxBatch: number;
  /** A client that announced connection parameters must send them within this time. */
  connectionParamsTimeoutMs: number;
  /** Bytes queued for a client that does not read; past this it is cut off. */
  maxBufferedBytes: number;
}

export const defaultWsLimits: WsLimits = {
  framesPerSecond: 20,
  frameBurst: 60,
  maxBatch: 20,
  connectionParamsTimeoutMs: 5_000,
  maxBufferedBytes: 1024 * 1024,
};

/** Close codes: 1008 policy violation (RFC 6455); 4000-4999 are Parley's own. */
export const CloseCode = {
  policy: 1008,
  tokenExpired: 4001,
  sessionEnded: 4003,
} as const;

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
type Send = WebSocket["send"];

export function guardSocket(socket: WebSocket, req: IncomingMessage, limits: WsLimits, onViolation: (reason: string) => void): void {
  const expectsParams = new URL(req.url ?? "/", "http://local").searchParams.get("connectionParams") === "1";
  let waitingForParams = expectsParams;
  const violate = (reason: string) => {
    onViolation(reason);
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
    const now = performance.now();
    tokens = Math.min(limits.frameBurst, tokens + ((now - refilledAt) / 1000) * limits.framesPerSecond);
    refilledAt = now;
    if (tokens < 1) {
      violate("too many messages");
      return false;
    }
    tokens -= 1;
    waitingForParams = false;
    const data = args[0];
    if (Buffer.isBuffer(data) && data[0] === 0x5b && batchSize(data) > limits.maxBatch) {
      violate("too many calls in one message");
      return false;
    }
    return emit(event, ...args);
  };
  socket.emit = guardedEmit as typeof socket.emit;

  const send = socket.send.bind(socket) as (...args: Parameters<Send>) => void;
  const transport = transportOf(socket);
  socket.send = ((...args: Parameters<Send>) => {
    if (transport) holdUntilEndOfTurn(transport);
    send(...args);
    // A client that stopped reading: its queue would grow without bound.
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      onViolation("slow consumer");
      socket.terminate();
    }
  }) as Send;
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

/** The number of calls in a frame that is a JSON array; frames are at most 64 KiB. */
function batchSize(data: Buffer): number {
  try {
    const parsed: unknown = JSON.parse(data.toString("utf8"));
    return Array.isArray(parsed) ? parsed.length : 1;
  } catch {
    return 1;
  }
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
