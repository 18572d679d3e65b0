// GET /metrics: the Prometheus exposition, for loopback callers that came through no proxy, and
// for anyone presenting METRICS_TOKEN as a bearer token. The numbers say how busy the instance is
// and how many connections it holds, which is not for the internet.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BlockList, isIP } from "node:net";
import type { ServerConfig } from "./config.js";
import type { PrometheusMetrics } from "./metrics.js";
import { clientAddressOf } from "./request-info.js";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever the socket says. */
const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;

export type MetricsAccess = "allowed" | "no-token" | "refused";

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Who may read /metrics. `no-token`: a token is configured and the caller did not present it (401);
 * `refused`: none is configured and the caller is not local (403).
 */
export function metricsAccess(req: IncomingMessage, config: Pick<ServerConfig, "metrics" | "trustProxy">): MetricsAccess {
  const { token } = config.metrics;
  const authorization = req.headers.authorization;
  // Compared as digests: constant time, whatever the length presented.
  if (token !== null && authorization?.startsWith("Bearer ") && timingSafeEqual(sha256(authorization.slice("Bearer ".length)), sha256(token))) return "allowed";
  const proxied = FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined);
  const address = clientAddressOf(req, config.trustProxy);
  const family = isIP(address);
  if (!proxied && family !== 0 && loopback.check(address, family === 6 ? "ipv6" : "ipv4")) return "allowed";
  return token !== null ? "no-token" : "refused";
}

export async function handleMetrics(req: IncomingMessage, res: ServerResponse, config: ServerConfig, metrics: PrometheusMetrics | null): Promise<void> {
  res.setHeader("Cache-Control", "no-store");
  if (!metrics) {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Metrics are off (METRICS=off)\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { "Content-Type": "text/plain; charset=utf-8", Allow: "GET, HEAD" }).end("Method not allowed\n");
    return;
  }
  const access = metricsAccess(req, config);
  if (access === "no-token") {
    res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8", "WWW-Authenticate": 'Bearer realm="metrics"' }).end("A bearer token (METRICS_TOKEN) is required\n");
    return;
  }
  if (access === "refused") {
    res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8" }).end("Metrics are served to local callers only unless METRICS_TOKEN is set\n");
    return;
  }
  const body = await metrics.exposition();
  res.writeHead(200, { "Content-Type": metrics.contentType });
  res.end(req.method === "HEAD" ? undefined : body);
}
