// tRPC over WebSocket on the HTTP server's /trpc: origin check at the upgrade, per-connection
// limits, and connections bound to the session of the token they authenticated with.
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { appRouter, createContext, type Services } from "@parley/api";
import type { ServerConfig } from "./config.js";
import type { Logger } from "./log.js";
import { clientAddressOf, reportInternalError } from "./request-info.js";
import { fanOutEncoder } from "./ws-encoder.js";
import { CloseCode, guardSocket, isOriginAllowed, type WsLimits } from "./ws-guard.js";

const MAX_FRAME_BYTES = 64 * 1024;

export interface KeepAlive {
  pingMs: number;
  pongWaitMs: number;
}

export interface WebSocketEndpoint {
  /** Tells every client to reconnect, waits a little, then closes what is left. */
  close(): Promise<void>;
  readonly clientCount: number;
}

export function attachWebSocket(
  server: Server,
  deps: { config: ServerConfig; services: Services; log: Logger; limits: WsLimits; keepAlive: KeepAlive },
): WebSocketEndpoint {
  const { config, services, log, limits, keepAlive } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const socketsBySession = new Map<string, Set<WebSocket>>();

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
    if (event.type !== "session-revoked") return;
    for (const socket of socketsBySession.get(event.sessionId) ?? []) socket.close(CloseCode.sessionEnded, "session ended");
  });

  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }) => {
      const token = info.connectionParams?.token;
      const ctx = createContext(services, typeof token === "string" ? token : null, clientAddressOf(req, config.trustProxy));
      if (ctx.auth) bindToSession(res, ctx.auth.sessionId, ctx.auth.expiresAt);
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
      log.warn("ws refused", { reason: "origin not allowed", origin: req.headers.origin });
      refuseUpgrade(socket, "403 Forbidden");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = nextConnectionId++;
      log.info("ws open", { connection, address: clientAddressOf(req, config.trustProxy) });
      ws.on("close", (code) => log.info("ws close", { connection, code }));
      guardSocket(ws, req, limits, (reason) => log.warn("ws limit", { connection, reason }));
      wss.emit("connection", ws, req);
    });
  });

  return {
    get clientCount() {
      return wss.clients.size;
    },
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
