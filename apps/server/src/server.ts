// The one Parley process: HTTP (tRPC, /healthz, the web app) and tRPC over WebSocket on one port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import {
  appRouter,
  createContext,
  createServices,
  defaultApiConfig,
  InProcessEventBus,
  RedisEventBus,
  type ApiConfig,
  type EventBus,
  type Services,
} from "@parley/api";
import { migrate, openDatabase } from "@parley/db";
import { loadConfig, type ServerConfig } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { createStaticHandler } from "./static-files.js";

export interface StartOptions {
  /** Defaults to an in-process bus. */
  bus?: EventBus;
  logger?: Logger;
  /** Overrides of the API's limits and lifetimes (tests shorten them). */
  api?: Partial<Omit<ApiConfig, "jwtSecret">>;
}

export interface RunningServer {
  url: string;
  port: number;
  config: ServerConfig;
  services: Services;
  /** Graceful: tells WebSocket clients to reconnect, lets in-flight calls finish, closes the database. */
  close(): Promise<void>;
}

const MAX_WS_FRAME_BYTES = 64 * 1024;

/** Starts a server from the environment, with `overrides` taking precedence (tests pass port 0 and a fresh database). */
export async function startServer(overrides: Partial<ServerConfig> = {}, options: StartOptions = {}): Promise<RunningServer> {
  const env = overrides.jwtSecret ? { ...process.env, JWT_SECRET: overrides.jwtSecret } : process.env;
  const loaded = loadConfig(env);
  const config: ServerConfig = { ...loaded.config, ...overrides };
  const log = options.logger ?? createLogger(config.logLevel);
  for (const warning of loaded.warnings) if (!overrides.jwtSecret) log.warn(warning);

  const { applied } = await migrate(config.databaseUrl);
  if (applied.length > 0) log.info("migrations applied", { migrations: applied.join(",") });
  const db = await openDatabase(config.databaseUrl);
  const ownsBus = !options.bus;
  const bus = options.bus ?? (await createBus(config, log));
  const services = await createServices({
    db,
    bus,
    config: { ...defaultApiConfig, ...options.api, jwtSecret: config.jwtSecret },
    onBackgroundError: (error, what) => log.warn(`${what} failed`, { cause: describe(error) }),
  });
  // A safety net under the event bus: delivers anything stored that no event announced (an
  // instance that died between storing and publishing, Redis down). Usually reads nothing.
  const catchUpTimer = setInterval(() => void services.hub.catchUp(), CATCH_UP_INTERVAL_MS);
  catchUpTimer.unref();

  const clientAddress = (req: IncomingMessage): string => {
    const forwarded = req.headers["x-forwarded-for"];
    if (config.trustProxy && typeof forwarded === "string") return forwarded.split(",")[0]?.trim() || "unknown";
    return req.socket.remoteAddress ?? "unknown";
  };

  const onError = ({ error, path }: { error: { code: string; message: string; cause?: unknown }; path?: string }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") {
      const cause = error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : error.message;
      log.error("procedure failed", { path, cause });
    }
  };

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) => createContext(services, bearerToken(req.headers.authorization), clientAddress(req)),
    onError,
    maxBodySize: 100 * 1024,
  });
  const staticHandler = createStaticHandler(config.webDistDir);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    res.on("finish", () => {
      log.info("request", { method: req.method, path: pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    if (applyCors(req, res, config.corsOrigins)) return;
    if (pathname === "/healthz") {
      // Only the database decides readiness: with the bus down, sends still commit and live
      // delivery catches up when it returns.
      const ok = await db.ping();
      const busStatus = bus.status();
      const body = { ok, database: ok ? "up" : "down", ...(busStatus ? { [busStatus.name]: busStatus.up ? "up" : "down" } : {}) };
      res.writeHead(ok ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify(body));
    } else if (pathname === "/trpc" || pathname.startsWith("/trpc/")) {
      trpcHandler(req, res);
    } else {
      staticHandler(req, res);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error("request failed", { cause: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: "Internal server error" }));
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_FRAME_BYTES });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, info }) => {
      const token = info.connectionParams?.token;
      return createContext(services, typeof token === "string" ? token : null, clientAddress(req));
    },
    onError,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });
  let nextConnectionId = 1;
  wss.on("connection", (socket, req) => {
    const connection = nextConnectionId++;
    const address = clientAddress(req);
    log.info("ws open", { connection, address });
    socket.on("close", (code) => log.info("ws close", { connection, code }));
  });

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    if (pathname !== "/trpc") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${port}`;
  log.info("listening", { url, database: db.provider, events: config.redisUrl ? "redis" : "in-process" });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      log.info("shutting down");
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      wsHandler.broadcastReconnectNotification();
      // Give clients a moment to act on the notice, then close what is left.
      await waitUntil(() => wss.clients.size === 0, 1_000);
      for (const client of wss.clients) client.close(1012, "server restarting");
      await waitUntil(() => wss.clients.size === 0, 1_000);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const timeout = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await httpClosed;
      clearTimeout(timeout);
      clearInterval(catchUpTimer);
      services.close();
      if (ownsBus) await bus.close();
      await db.close();
      log.info("stopped");
    })();
    return closing;
  };

  return { url, port, config, services, close };
}

const CATCH_UP_INTERVAL_MS = 5_000;

async function createBus(config: ServerConfig, log: Logger): Promise<EventBus> {
  if (!config.redisUrl) return new InProcessEventBus();
  let lastError = "";
  const bus = new RedisEventBus(config.redisUrl, {
    channel: config.redisChannel,
    onError: (error) => {
      const message = describe(error);
      // One line per distinct failure, not one per reconnect attempt.
      if (message !== lastError) log.warn("redis", { cause: message });
      lastError = message;
    },
  });
  try {
    await bus.ready(5_000);
  } catch {
    log.warn("redis is not reachable yet: live events stay on this instance's database catch-up until it is");
  }
  return bus;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** Sets CORS headers for allowed origins; answers preflight requests. True when the request was answered. */
function applyCors(req: IncomingMessage, res: ServerResponse, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (origin && allowed.includes(origin)) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Allow-Headers", "authorization, content-type, trpc-accept");
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.setHeader("Access-Control-Max-Age", "600");
  }
  if (req.method === "OPTIONS") {
    res.writeHead(origin && allowed.includes(origin) ? 204 : 403).end();
    return true;
  }
  return false;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
