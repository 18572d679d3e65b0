// The metrics module (src/metrics.ts), who may read /metrics (src/metrics-route.ts), and the
// settings that turn them on, off and behind a token.
import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { metricsSnapshotSchema } from "@parley/api";
import { ConfigError, loadConfig, type ServerConfig } from "../src/index.js";
import { Distribution, PrometheusMetrics } from "../src/metrics.js";
import { metricsAccess } from "../src/metrics-route.js";
import { clientMessageId, signUpAndLogIn, startTestServer, type TestServer } from "./harness.js";
import { parseExposition, scrape, valueOf } from "./metrics-helpers.js";

const SECRET = "s".repeat(32);
const TOKEN = "t0ken-".repeat(8);

const opened: PrometheusMetrics[] = [];
function metrics(): PrometheusMetrics {
  const created = new PrometheusMetrics();
  opened.push(created);
  return created;
}
afterEach(() => {
  for (const m of opened.splice(0)) m.close();
});

describe("Distribution", () => {
  it("counts a value in the first bucket whose bound it does not exceed, and above the last only in the count", () => {
    const d = new Distribution([1, 5, 10]);
    for (const value of [0.5, 1, 3, 10, 11]) d.observe(value);
    expect([...d.counts]).toEqual([2, 1, 1]);
    expect(d.count).toBe(5);
    expect(d.sum).toBe(25.5);
  });
});

describe("PrometheusMetrics", () => {
  it("exposes what was recorded in the text format: counters, cumulative histogram buckets, labels bound once", async () => {
    const m = metrics();
    m.messagesStored(3);
    m.eventsCommitted(4);
    // A negative lag (another instance's clock ahead) counts as none.
    for (const lag of [-0.0005, 0.003, 0.003, 20]) m.delivered(lag);
    m.sendCompleted(0.02);
    const insert = m.databaseTimer("messages.insert");
    insert(0.002);
    insert(0.004);
    m.batchSizes("messages")(7);
    m.rateLimited("messages-user");
    m.rateLimited("messages-user");
    m.rateLimited("ws-frames");
    const samples = parseExposition(await m.exposition());

    expect(valueOf(samples, "parley_messages_stored_total")).toBe(3);
    expect(valueOf(samples, "parley_events_committed_total")).toBe(4);
    expect(valueOf(samples, "parley_deliveries_total")).toBe(4);
    expect(valueOf(samples, 'parley_delivery_lag_seconds_bucket{le="0.001"}')).toBe(1);
    expect(valueOf(samples, 'parley_delivery_lag_seconds_bucket{le="0.005"}')).toBe(3);
    expect(valueOf(samples, 'parley_delivery_lag_seconds_bucket{le="10"}')).toBe(3);
    expect(valueOf(samples, 'parley_delivery_lag_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(valueOf(samples, "parley_delivery_lag_seconds_count")).toBe(4);
    expect(valueOf(samples, "parley_delivery_lag_seconds_sum")).toBeCloseTo(20.006, 9);
    expect(valueOf(samples, "parley_send_duration_seconds_count")).toBe(1);
    expect(valueOf(samples, 'parley_db_operation_seconds_count{operation="messages.insert"}')).toBe(2);
    expect(valueOf(samples, 'parley_db_operation_seconds_bucket{operation="messages.insert",le="0.0025"}')).toBe(1);
    // Every operation is there before its first call, at 0: a rate over it is defined from the start.
    expect(valueOf(samples, 'parley_db_operation_seconds_count{operation="events.inEventOrder"}')).toBe(0);
    expect(valueOf(samples, 'parley_writer_batch_size_sum{writer="messages"}')).toBe(7);
    expect(valueOf(samples, 'parley_writer_batch_size_count{writer="reads"}')).toBe(0);
    expect(valueOf(samples, 'parley_rate_limited_total{kind="messages-user"}')).toBe(2);
    expect(valueOf(samples, 'parley_rate_limited_total{kind="ws-frames"}')).toBe(1);
    expect(valueOf(samples, 'parley_rate_limited_total{kind="signups-address"}')).toBe(0);
    // prom-client's process and Node.js metrics: memory, the event loop's lag.
    expect(valueOf(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(samples.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
  });

  it("reads the server's gauges when scraped; Redis is absent without a link, 1 or 0 with one", async () => {
    const m = metrics();
    let connections = 2;
    let redis: boolean | null = null;
    m.watch({ connections: () => connections, subscriptions: () => 5, redisUp: () => redis });
    let samples = parseExposition(await m.exposition());
    expect(valueOf(samples, "parley_ws_connections")).toBe(2);
    expect(valueOf(samples, "parley_live_subscriptions")).toBe(5);
    expect(samples.has("parley_redis_up")).toBe(false);
    connections = 0;
    redis = false;
    samples = parseExposition(await m.exposition());
    expect(valueOf(samples, "parley_ws_connections")).toBe(0);
    expect(valueOf(samples, "parley_redis_up")).toBe(0);
    redis = true;
    expect(valueOf(parseExposition(await m.exposition()), "parley_redis_up")).toBe(1);
  });

  it("two instances in one process keep their own registries and numbers", async () => {
    const first = metrics();
    const second = metrics();
    first.messagesStored(5);
    expect(valueOf(parseExposition(await first.exposition()), "parley_messages_stored_total")).toBe(5);
    expect(valueOf(parseExposition(await second.exposition()), "parley_messages_stored_total")).toBe(0);
    expect(first.registry).not.toBe(second.registry);
  });

  it("gives a snapshot of the main numbers as the typed object an admin panel shows", async () => {
    const m = metrics();
    m.watch({ connections: () => 3, subscriptions: () => 4, redisUp: () => true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    m.messagesStored(6);
    m.eventsCommitted(6);
    m.delivered(0.004);
    m.delivered(0.006);
    m.rateLimited("searches-user");
    const snapshot = await m.snapshot();
    expect(metricsSnapshotSchema.parse(snapshot)).toEqual(snapshot);
    expect(snapshot).toMatchObject({ connections: 3, subscriptions: 4, redis: "up", totals: { messages: 6, events: 6, deliveries: 2, rateLimited: 1 } });
    // Rates are what happened over the window so far.
    expect(snapshot.windowSeconds).toBeGreaterThan(0);
    expect(snapshot.messagesPerSecond * snapshot.windowSeconds).toBeCloseTo(6, 6);
    expect(snapshot.deliveriesPerSecond * snapshot.windowSeconds).toBeCloseTo(2, 6);
    expect(snapshot.meanDeliveryLagMs).toBeCloseTo(5, 6);
    expect(snapshot.meanSendLatencyMs).toBeNull();
    expect(snapshot.memory.rssBytes).toBeGreaterThan(0);
  });
});

describe("who may read /metrics", () => {
  function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
    return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
  }
  const settings = (token: string | null, trustProxy: ServerConfig["trustProxy"] = null) => ({ metrics: { enabled: true, token }, trustProxy });

  it("a loopback caller that came through no proxy, IPv4 or IPv6", () => {
    expect(metricsAccess(request("127.0.0.1"), settings(null))).toBe("allowed");
    expect(metricsAccess(request("::1"), settings(null))).toBe("allowed");
    expect(metricsAccess(request("::ffff:127.0.0.1"), settings(null))).toBe("allowed");
  });

  it("not another address, nor a loopback peer forwarding for someone (a reverse proxy on the same host)", () => {
    expect(metricsAccess(request("192.0.2.10"), settings(null))).toBe("refused");
    expect(metricsAccess(request("127.0.0.1", { "x-forwarded-for": "198.51.100.7" }), settings(null))).toBe("refused");
    expect(metricsAccess(request("127.0.0.1", { forwarded: "for=198.51.100.7" }), settings(null))).toBe("refused");
    // TRUST_PROXY names the client: here a remote one.
    expect(metricsAccess(request("127.0.0.1", { "x-forwarded-for": "198.51.100.7" }), settings(null, { hops: 1 }))).toBe("refused");
  });

  it("anyone presenting METRICS_TOKEN as a bearer token; a missing or wrong one asks for it", () => {
    expect(metricsAccess(request("192.0.2.10", { authorization: `Bearer ${TOKEN}` }), settings(TOKEN))).toBe("allowed");
    expect(metricsAccess(request("192.0.2.10"), settings(TOKEN))).toBe("no-token");
    expect(metricsAccess(request("192.0.2.10", { authorization: `Bearer ${TOKEN}x` }), settings(TOKEN))).toBe("no-token");
    expect(metricsAccess(request("192.0.2.10", { authorization: TOKEN }), settings(TOKEN))).toBe("no-token");
    // With no token configured, no bearer token opens it.
    expect(metricsAccess(request("192.0.2.10", { authorization: "Bearer " }), settings(null))).toBe("refused");
  });
});

describe("METRICS and METRICS_TOKEN", () => {
  it("are on without a token by default, and can be turned off or given a token", () => {
    expect(loadConfig({ JWT_SECRET: SECRET }, "/tmp").config.metrics).toEqual({ enabled: true, token: null });
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS: "off" }, "/tmp").config.metrics.enabled).toBe(false);
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS_TOKEN: TOKEN }, "/tmp").config.metrics).toEqual({ enabled: true, token: TOKEN });
  });

  it.each([
    ["METRICS", { METRICS: "maybe" }],
    ["METRICS_TOKEN", { METRICS_TOKEN: "short" }],
    ["METRICS_TOKEN", { METRICS_TOKEN: `${"x".repeat(32)} with spaces` }],
  ])("refuse an invalid %s, naming it", (name, env) => {
    const load = () => loadConfig({ JWT_SECRET: SECRET, ...env }, "/tmp");
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });
});

describe("/metrics over HTTP", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      await server.close();
      await server.database.drop();
    }
  });
  async function start(options: Parameters<typeof startTestServer>[1]): Promise<TestServer> {
    const server = await startTestServer("sqlite", options);
    servers.push(server);
    return server;
  }

  it("behind a trusted proxy a remote client is refused without the token and served with it; a local one is served", async () => {
    const server = await start({ trustProxy: { hops: 1 }, metrics: { enabled: true, token: TOKEN } });
    const remote = { "X-Forwarded-For": "198.51.100.7" };
    const refused = await fetch(`${server.url}/metrics`, { headers: remote });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await refused.text()).not.toContain("parley_");
    const wrong = await fetch(`${server.url}/metrics`, { headers: { ...remote, Authorization: "Bearer wrong" } });
    expect(wrong.status).toBe(401);
    const served = await fetch(`${server.url}/metrics`, { headers: { ...remote, Authorization: `Bearer ${TOKEN}` } });
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await served.text()).toContain("parley_messages_stored_total");
    expect((await scrape(server)).has("parley_deliveries_total")).toBe(true);
  });

  it("without a token a forwarded caller is refused with 403", async () => {
    const server = await start({ trustProxy: { hops: 1 } });
    const refused = await fetch(`${server.url}/metrics`, { headers: { "X-Forwarded-For": "198.51.100.7" } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain("parley_");
  });

  it("off: 404, nothing is recorded, and the snapshot is null", async () => {
    const server = await start({ metrics: { enabled: false, token: null } });
    const alice = await signUpAndLogIn(server);
    const bob = await signUpAndLogIn(server);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    await alice.api.message.send.mutate({ conversationId: id, content: "unmeasured", clientMessageId: clientMessageId() });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect(await server.services.metrics.snapshot()).toBeNull();
  });

  it("counts this server's messages in its snapshot", async () => {
    const server = await start({});
    const alice = await signUpAndLogIn(server);
    const bob = await signUpAndLogIn(server);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    await alice.api.message.send.mutate({ conversationId: id, content: "measured", clientMessageId: clientMessageId() });
    const snapshot = await server.services.metrics.snapshot();
    expect(snapshot?.totals.messages).toBe(1);
    expect(snapshot?.meanSendLatencyMs).toBeGreaterThan(0);
  });
});
