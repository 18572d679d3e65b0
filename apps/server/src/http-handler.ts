// Everything that arrives over plain HTTP: /healthz, /metrics, /trpc, and the web app, with CORS
// and the headers every response carries.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { appRouter, createContext, MAX_CALLS_PER_BATCH, type EventBus, type Services } from "@parley/api";
import type { Database } from "@parley/db";
import type { ServerConfig } from "./config.js";
import type { Logger } from "./log.js";
import { createStaticHandler } from "./static-files.js";
import { clientAddressOf, reportInternalError, requestIdOf } from "./request-info.js";
import { bearerToken, handleFileRoute, isFileRoute } from "./file-routes.js";
import { handleMetrics } from "./metrics-route.js";
import type { PrometheusMetrics } from "./metrics.js";

const MAX_BODY_BYTES = 100 * 1024;

/**
 * The app's own scripts and styles only; the API and its WebSocket on the same origin. React sets
 * styles through the DOM, which style-src does not restrict.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export function createHttpHandler(deps: {
  config: ServerConfig;
  services: Services;
  db: Database;
  bus: EventBus;
  log: Logger;
  /** null when metrics are off. */
  metrics: PrometheusMetrics | null;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { config, services, db, bus, log, metrics } = deps;
  // Each request's own logger (its id bound), for the tRPC context to carry into procedures.
  const requestLogs = new WeakMap<IncomingMessage, Logger>();
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: ({ req }) =>
      createContext(services, bearerToken(req.headers.authorization), clientAddressOf(req, config.trustProxy), requestLogs.get(req) ?? log),
    onError: reportInternalError(log),
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_CALLS_PER_BATCH,
  });
  const staticHandler = createStaticHandler(config.webDistDir);

  return async (req, res) => {
    const started = performance.now();
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    const requestId = requestIdOf(req);
    const requestLog = log.child({ requestId });
    requestLogs.set(req, requestLog);
    res.setHeader("X-Request-Id", requestId);
    res.on("finish", () => {
      // The path only: query strings can carry procedure input.
      requestLog.info({ method: req.method, path: pathname, status: res.statusCode, ms: Math.round(performance.now() - started) }, "request");
    });
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    if (config.tls) res.setHeader("Strict-Transport-Security", "max-age=31536000");
    if (applyCors(req, res, config.corsOrigins)) return;
    if (pathname === "/healthz") {
      // Only the database decides readiness: with the bus down, sends still commit and live
      // delivery catches up when it returns.
      const ok = await db.ping();
      const busStatus = bus.status();
      const body = { ok, database: ok ? "up" : "down", ...(busStatus ? { [busStatus.name]: busStatus.up ? "up" : "down" } : {}) };
      res.writeHead(ok ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify(body));
    } else if (pathname === "/metrics") {
      await handleMetrics(req, res, config, metrics);
    } else if (isFileRoute(pathname)) {
      await handleFileRoute(req, res, new URL(req.url ?? "/", "http://local"), services, requestLog);
    } else if (pathname === "/trpc" || pathname.startsWith("/trpc/")) {
      res.setHeader("Cache-Control", "no-store");
      if (!isDecodable(pathname)) {
        // tRPC decodes the procedure path itself and would answer a broken escape with a 500.
        res.writeHead(400, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Malformed procedure path", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } } }));
        return;
      }
      const subscription = subscriptionNamedBy(pathname);
      if (subscription !== null) {
        refuseSubscription(res, subscription, new URL(req.url ?? "/", "http://local").searchParams.get("batch") === "1");
        return;
      }
      trpcHandler(req, res);
    } else {
      res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
      res.setHeader("X-Frame-Options", "DENY");
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      staticHandler(req, res);
    }
  };
}

/** Procedure paths that are subscriptions, from the router itself (at run time a flat map of dotted paths). */
const subscriptionPaths = new Set(
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .filter(([, procedure]) => procedure._def.type === "subscription")
    .map(([path]) => path),
);

/**
 * The subscription a /trpc request names, if any, read as tRPC's HTTP adapter reads the path
 * (decoded, split at commas when batched; split always here, so a non-batch "a,b" is refused too).
 */
function subscriptionNamedBy(pathname: string): string | null {
  const paths = decodeURIComponent(pathname.slice("/trpc/".length)).split(",");
  return paths.find((path) => subscriptionPaths.has(path)) ?? null;
}

/**
 * Live streams are served over the WebSocket only (where logout, expiry, slow readers and the
 * connection caps are enforced); tRPC would answer over HTTP with an event stream.
 */
function refuseSubscription(res: ServerResponse, path: string, batch: boolean): void {
  const error = {
    error: {
      message: "Subscriptions are served over the WebSocket only",
      code: -32005,
      data: { code: "METHOD_NOT_SUPPORTED", httpStatus: 405, path },
    },
  };
  res.writeHead(405, { "Content-Type": "application/json", Allow: "" });
  res.end(JSON.stringify(batch ? [error] : error));
}

function isDecodable(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/** Sets CORS headers for allowed origins; answers preflight requests. True when the request was answered. */
function applyCors(req: IncomingMessage, res: ServerResponse, allowed: string[]): boolean {
  const origin = req.headers.origin;
  const isAllowed = origin !== undefined && allowed.includes(origin);
  if (isAllowed) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Allow-Headers", "authorization, content-type, trpc-accept");
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.setHeader("Access-Control-Max-Age", "600");
    // So a browser client can quote it in a bug report.
    res.setHeader("Access-Control-Expose-Headers", "X-Request-Id");
  }
  if (req.method === "OPTIONS") {
    res.writeHead(isAllowed ? 204 : 403).end();
    return true;
  }
  return false;
}
