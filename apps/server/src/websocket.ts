// tRPC over WebSocket on the HTTP server's /trpc: origin check and connection caps at the upgrade,
// per-connection limits, a deadline to authenticate, connections bound to the session of the
// token they authenticated with, and counted for presence.
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { appRouter, createContext, type Services } from "@parley/api";
import type { ServerConfig } from "./config.js";
import { repeatFilter, type Logger } from "./log.js";
import { clientAddressOf, reportInternalError } from "./request-info.js";
import { fanOutEncoder } from "./ws-encoder.js";
import { CloseCode, FRAME_RATE_EXCEEDED, guardSocket, isOriginAllowed, type WsLimits } from "./ws-guard.js";

const MAX_FRAME_BYTES = 64 * 1024;

/** Refused upgrades are logged once per reason in this interval, with how many were not. */
export const REFUSED_LOG_INTERVAL_MS = 60_000;

export interface KeepAlive {
  pingMs: number;
  pongWaitMs: number;
}

export interface WebSocketEndpoint {
  /** Open connections: from the upgrade until the TCP socket closes (metrics). */
  connectionCount(): number;
  /** Tells every client to reconnect, waits a little, then closes what is left. */
  close(): Promise<void>;
}

export function attachWebSocket(
  server: Server,
  deps: { config: ServerConfig; services: Services; log: Logger; limits: WsLimits; keepAlive: KeepAlive },
): WebSocketEndpoint {
  const { config, services, log, limits, keepAlive } = deps;
  const { metrics } = services;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const socketsBySession = new Map<string, Set<WebSocket>>();
  const socketsByUser = new Map<string, Set<WebSocket>>();

  // A connection lives no longer than the token it authenticated with, nor its session.
  const bindToSession = (socket: WebSocket, sessionId: string, expiresAt: number) => {
    let sockets = socketsBySession.get(sessionId);
    if (!sockets) {
      sockets = new Set();
      socketsBySession.set(sessionId, sockets);
    }
    sockets.add(socket);
    const expiry = setTimeout(() => socket.close(CloseCode.tokenExpired, "token expired"), Math.max(0, expiresAt * 1000 - services.clock.now().getTime()));
    socket.once("close", () => {
      clearTimeout(expiry);
      sockets.delete(socket);
      if (sockets.size === 0) socketsBySession.delete(sessionId);
    });
  };
  const unsubscribe = services.bus.subscribe((event) => {
    if (event.type === "session-revoked") {
      for (const socket of socketsBySession.get(event.sessionId) ?? []) socket.close(CloseCode.sessionEnded, "session ended");
    } else if (event.type === "user-deactivated") {
      for (const socket of socketsByUser.get(event.userId) ?? []) socket.close(CloseCode.accountDeactivated, "account deactivated");
    }
  });

  // Open connections by client address (counted from the upgrade) and by user (from authentication).
  const connectionsByAddress = new Map<string, number>();
  let openConnections = 0;
  const authenticated = new WeakSet<WebSocket>();
  // Each connection's own logger (its id bound), for the tRPC context to carry into procedures.
  const connectionLogs = new WeakMap<WebSocket, Logger>();
  const refusedFilter = repeatFilter(REFUSED_LOG_INTERVAL_MS);
  /** A client retrying a refused upgrade in a loop must not fill the disk. */
  const logRefused = (reason: string, fields: Record<string, unknown> = {}) => {
    const { log: write, suppressed } = refusedFilter(reason);
    if (write) log.warn({ reason, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, "ws refused");
  };

  /** False when the user already has as many connections as allowed: the socket is closed with 4008. */
  const admitUser = (socket: WebSocket, userId: string): boolean => {
    let sockets = socketsByUser.get(userId);
    if (!sockets) {
      sockets = new Set();
      socketsByUser.set(userId, sockets);
    }
    if (sockets.size >= limits.maxConnectionsPerUser) {
      metrics.rateLimited("ws-connections-user");
      logRefused("too many connections for one user");
      socket.close(CloseCode.tooManyConnections, "too many connections");
      return false;
    }
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) socketsByUser.delete(userId);
    });
    return true;
  };

  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }) => {
      const token = info.connectionParams?.token;
      const address = clientAddressOf(req, config.trustProxy);
      const connectionLog = connectionLogs.get(res) ?? log;
      const ctx = createContext(services, typeof token === "string" ? token : null, address, connectionLog);
      if (!ctx.auth) return ctx;
      if (!admitUser(res, ctx.auth.userId)) return createContext(services, null, address, connectionLog);
      authenticated.add(res);
      bindToSession(res, ctx.auth.sessionId, ctx.auth.expiresAt);
      // Online while an authenticated connection is open (a bad token never reaches here).
      const { userId } = ctx.auth;
      services.presence.connected(userId);
      res.once("close", () => services.presence.disconnected(userId));
      return ctx;
    },
    onError: reportInternalError(log),
    keepAlive: { enabled: true, ...keepAlive },
    experimental_encoder: fanOutEncoder,
  });

  let nextConnectionId = 1;
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    if (pathname !== "/trpc") {
      refuseUpgrade(socket, "404 Not Found");
      return;
    }
    if (!isOriginAllowed(req, config.corsOrigins, config.allowLocalhostOrigins)) {
      logRefused("origin not allowed", { origin: req.headers.origin?.slice(0, 200) });
      refuseUpgrade(socket, "403 Forbidden");
      return;
    }
    const address = clientAddressOf(req, config.trustProxy);
    // Before descriptors run out: HTTP, the database and /healthz keep what is left.
    if (openConnections >= limits.maxConnections) {
      metrics.rateLimited("ws-connections");
      logRefused("server at its connection limit");
      refuseUpgrade(socket, "503 Service Unavailable");
      return;
    }
    const fromAddress = connectionsByAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxConnectionsPerAddress) {
      metrics.rateLimited("ws-connections-address");
      logRefused("too many connections from one address", { address });
      refuseUpgrade(socket, "429 Too Many Requests");
      return;
    }
    // Counted from here until the TCP socket closes, whether or not the handshake completes.
    openConnections += 1;
    connectionsByAddress.set(address, fromAddress + 1);
    socket.once("close", () => {
      openConnections -= 1;
      const left = (connectionsByAddress.get(address) ?? 1) - 1;
      if (left === 0) connectionsByAddress.delete(address);
      else connectionsByAddress.set(address, left);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connectionLog = log.child({ connection: nextConnectionId++ });
      connectionLogs.set(ws, connectionLog);
      connectionLog.info({ address }, "ws open");
      // Public calls (signup, login) work until then; a connection never authenticated holds nothing.
      const authDeadline = setTimeout(() => {
        if (!authenticated.has(ws)) ws.close(CloseCode.policy, "not authenticated in time");
      }, limits.authTimeoutMs);
      ws.on("close", (code) => {
        clearTimeout(authDeadline);
        connectionLog.info({ code }, "ws close");
      });
      guardSocket(ws, req, limits, (reason) => {
        if (reason === FRAME_RATE_EXCEEDED) metrics.rateLimited("ws-frames");
        connectionLog.warn({ reason }, "ws limit");
      });
      wss.emit("connection", ws, req);
    });
  });

  return {
    connectionCount: () => openConnections,
    async close() {
      unsubscribe();
      handler.broadcastReconnectNotification();
      // Give clients a moment to act on the notice, then close what is left.
      await waitUntil(() => wss.clients.size === 0, 1_000);
      for (const client of wss.clients) client.close(1012, "server restarting");
      await waitUntil(() => wss.clients.size === 0, 1_000);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Answers an upgrade we will not take and destroys the socket once the answer is written: ending it
 * alone leaves it half-open when the client sent a body we never read, which leaks the descriptor
 * and keeps graceful shutdown waiting.
 */
function refuseUpgrade(socket: Socket, status: string): void {
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
