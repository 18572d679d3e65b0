// The one Parley process: HTTP (tRPC, /healthz, the web app) and tRPC over WebSocket on one port.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createServices, defaultApiConfig, InProcessEventBus, LocalFileStore, RedisEventBus, type ApiConfig, type EventBus, type Services } from "@parley/api";
import { migrate, openDatabase } from "@parley/db";
import { loadConfig, type ServerConfig } from "./config.js";
import { secureDataFiles } from "./data-files.js";
import { createHttpHandler } from "./http-handler.js";
import { createLogger, type Logger } from "./log.js";
import { PrometheusMetrics } from "./metrics.js";
import { attachWebSocket, type KeepAlive } from "./websocket.js";
import { defaultWsLimits, type WsLimits } from "./ws-guard.js";

export interface StartOptions {
  /** Defaults to Redis when configured, else an in-process bus. */
  bus?: EventBus;
  logger?: Logger;
  /** Overrides of the API's limits and lifetimes (tests shorten them). */
  api?: Partial<Omit<ApiConfig, "jwtSecret">>;
  wsLimits?: Partial<WsLimits>;
  keepAlive?: Partial<KeepAlive>;
}

export interface RunningServer {
  url: string;
  port: number;
  config: ServerConfig;
  services: Services;
  /** Graceful: tells WebSocket clients to reconnect, lets in-flight calls finish, closes the database. */
  close(): Promise<void>;
}

/** A safety net under the event bus: how often to look for stored messages no event announced. */
const CATCH_UP_INTERVAL_MS = 5_000;
/** How often presence moves on: grace periods, instance expiry and the heartbeat are checked at this step. */
const PRESENCE_TICK_MS = 1_000;

/** Starts a server from the environment, with `overrides` taking precedence (tests pass port 0 and a fresh database). */
export async function startServer(overrides: Partial<ServerConfig> = {}, options: StartOptions = {}): Promise<RunningServer> {
  const { config, warnings } = loadConfig(undefined, undefined, overrides);
  const log = options.logger ?? createLogger(config.logLevel);
  for (const warning of [...warnings, ...secureDataFiles(config.dataDir, config.databaseUrl)]) log.warn(warning);

  const { applied } = await migrate(config.databaseUrl);
  if (applied.length > 0) log.info({ migrations: applied }, "migrations applied");
  const db = await openDatabase(config.databaseUrl);
  const ownsBus = !options.bus;
  const bus = options.bus ?? (await createBus(config, log));
  // Per instance, never prom-client's global registry: two servers in one process keep their own.
  const metrics = config.metrics.enabled ? new PrometheusMetrics() : null;
  const services = await createServices({
    db,
    bus,
    config: {
      ...defaultApiConfig,
      limits: {
        ...defaultApiConfig.limits,
        messagesPerUser: config.messageRateLimit,
        messageChangesPerUser: config.messageChangeRateLimit,
        signupsPerAddress: config.signupRateLimit.perAddress,
        signupsOverall: config.signupRateLimit.overall,
        uploadsPerUser: config.files.uploadRateLimit,
      },
      files: {
        ...defaultApiConfig.files,
        maxUploadBytes: config.files.maxUploadBytes,
        unattachedTtlSeconds: config.files.unattachedTtlSeconds,
        sweepIntervalSeconds: config.files.sweepIntervalSeconds,
      },
      subscriptionsPerConnection: config.subscriptionsPerConnection,
      admin: { ...defaultApiConfig.admin, ...config.admin },
      ...options.api,
      jwtSecret: config.jwtSecret,
    },
    log,
    // Limits are shared where events are: one Redis, keys kept apart per deployment by the channel.
    limitsRedis: config.redisUrl ? { url: config.redisUrl, keyPrefix: `${config.redisChannel}:limits` } : null,
    fileStore: new LocalFileStore(config.files.dir),
    ...(metrics ? { metrics } : {}),
  });
  const catchUpTimer = setInterval(() => void services.hub.catchUp(), CATCH_UP_INTERVAL_MS);
  catchUpTimer.unref();
  services.presence.tick();
  const presenceTimer = setInterval(() => services.presence.tick(), PRESENCE_TICK_MS);
  presenceTimer.unref();

  const handle = createHttpHandler({ config, services, db, bus, log, metrics });
  const onRequest: Parameters<typeof createHttpServer>[1] = (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, requestId: res.getHeader("X-Request-Id") }, "request failed");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: "Internal server error" }));
    });
  };
  const server: Server = config.tls
    ? createHttpsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, onRequest)
    : createHttpServer(onRequest);
  const websocket = attachWebSocket(server, {
    config,
    services,
    log,
    limits: { ...defaultWsLimits, ...config.wsFrameRate, ...config.wsConnections, ...options.wsLimits },
    keepAlive: { pingMs: 30_000, pongWaitMs: 5_000, ...options.keepAlive },
  });
  metrics?.watch({
    connections: () => websocket.connectionCount(),
    subscriptions: () => services.hub.subscriptionCount,
    redisUp: () => bus.status()?.up ?? null,
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `${config.tls ? "https" : "http"}://${host}:${port}`;
  log.info({ url, database: db.provider, events: config.redisUrl ? "redis" : "in-process" }, "listening");

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      log.info("shutting down");
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await websocket.close();
      const timeout = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await httpClosed;
      clearTimeout(timeout);
      clearInterval(catchUpTimer);
      clearInterval(presenceTimer);
      metrics?.close();
      services.close();
      if (ownsBus) await bus.close();
      await db.close();
      log.info("stopped");
    })();
    return closing;
  };

  return { url, port, config, services, close };
}

async function createBus(config: ServerConfig, log: Logger): Promise<EventBus> {
  if (!config.redisUrl) return new InProcessEventBus();
  let lastError = "";
  const bus = new RedisEventBus(config.redisUrl, {
    channel: config.redisChannel,
    onError: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      // One line per distinct failure, not one per reconnect attempt.
      if (message !== lastError) log.warn({ err: error }, "redis");
      lastError = message;
    },
  });
  try {
    await bus.ready(5_000);
  } catch {
    log.warn("redis is not reachable yet: live events rely on the database catch-up until it is");
  }
  return bus;
}
