// The server's metrics, in Prometheus' text format (prom-client): what packages/api reports through
// its Metrics interface, the server's own gauges, and prom-client's process and Node.js metrics.
// One registry per server instance, so two servers in one process (tests) keep their own numbers.
//
// The API's calls land on plain numbers and arrays - a delivery is one histogram step, with no
// labels hashed and nothing allocated - and the registry reads them when /metrics is scraped.
// (prom-client's own Histogram.observe builds a label key and a closure per call: about 17 times
// slower, measured by test/metrics.bench.ts.)
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { collectDefaultMetrics, Registry, type Metric } from "prom-client";
import { DATABASE_OPERATIONS, RATE_LIMIT_KINDS, WRITERS, type Metrics, type MetricsSnapshot, type RateLimitKind, type WriterName } from "@parley/api";

/** Upper bounds, in seconds: delivery lag and send latency run from a millisecond to seconds under load. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A store call is a prepared statement (SQLite, tens of microseconds) to a batch's transaction. */
const DATABASE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Requests per group commit: 1 when idle, up to each writer's maximum (100 or 200) under load. */
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200];

/** Rates and means of the snapshot are over about this long. */
const WINDOW_MS = 60_000;
const SAMPLE_EVERY_MS = 5_000;

/** A histogram's numbers: a count per bucket (not cumulative), the total count and the sum. */
export class Distribution {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket += 1;
    // Above the last bound a value is only in +Inf, which is the count.
    if (bucket < bounds.length) this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.count += 1;
    this.sum += value;
  }
}

/** What the server knows and the API does not: read when scraped. */
export interface ServerGauges {
  /** Open WebSocket connections. */
  connections(): number;
  /** Live subscriptions. */
  subscriptions(): number;
  /** Whether the Redis link is up; null without Redis. */
  redisUp(): boolean | null;
}

interface Sample {
  metricName?: string;
  labels?: Record<string, string | number>;
  value: number;
}

/**
 * A metric whose values are read when scraped. prom-client's registry asks each metric for its
 * values (`get()`) and formats them; its own classes hold values it sets, these read ours.
 */
class ReadOnScrape {
  readonly aggregator = "sum";

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    private readonly read: () => Sample[],
  ) {}

  get() {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.read() });
  }

  reset(): void {}
}

function histogramSamples(name: string, distribution: Distribution, labels: Record<string, string> = {}): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  distribution.bounds.forEach((bound, i) => {
    cumulative += distribution.counts[i] ?? 0;
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
  });
  samples.push(
    { metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: distribution.count },
    { metricName: `${name}_sum`, labels, value: distribution.sum },
    { metricName: `${name}_count`, labels, value: distribution.count },
  );
  return samples;
}

/** Counts at one moment, for the snapshot's rates. */
interface Tally {
  at: number;
  messages: number;
  events: number;
  deliveries: number;
  refusals: number;
  lagSum: number;
  sendCount: number;
  sendSum: number;
}

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private messages = 0;
  private events = 0;
  private refusals = 0;
  private readonly lag = new Distribution(LATENCY_BUCKETS);
  private readonly sends = new Distribution(LATENCY_BUCKETS);
  private readonly database = new Map<string, Distribution>(DATABASE_OPERATIONS.map((operation) => [operation, new Distribution(DATABASE_BUCKETS)]));
  private readonly batches = new Map<WriterName, Distribution>(WRITERS.map((writer) => [writer, new Distribution(BATCH_BUCKETS)]));
  private readonly refusalsByKind = new Map<RateLimitKind, number>(RATE_LIMIT_KINDS.map((kind) => [kind, 0]));
  private gauges: ServerGauges = { connections: () => 0, subscriptions: () => 0, redisUp: () => null };
  /** Oldest first, spanning about WINDOW_MS. */
  private readonly tallies: Tally[] = [];
  private readonly eventLoop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private lastEventLoopP99Ms: number | null = null;
  private readonly sampler: NodeJS.Timeout;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const add = (metric: ReadOnScrape) => this.registry.registerMetric(metric as unknown as Metric);
    add(new ReadOnScrape("parley_ws_connections", "Open WebSocket connections on this instance.", "gauge", () => [{ value: this.gauges.connections() }]));
    add(new ReadOnScrape("parley_live_subscriptions", "Live subscriptions (sync.events, message.live) on this instance.", "gauge", () => [{ value: this.gauges.subscriptions() }]));
    add(
      new ReadOnScrape("parley_redis_up", "1 while the Redis link is up, 0 while it is down (absent without Redis).", "gauge", () => {
        const up = this.gauges.redisUp();
        return up === null ? [] : [{ value: up ? 1 : 0 }];
      }),
    );
    add(new ReadOnScrape("parley_messages_stored_total", "Messages this instance stored (replies included).", "counter", () => [{ value: this.messages }]));
    add(new ReadOnScrape("parley_events_committed_total", "Events this instance committed to the event log.", "counter", () => [{ value: this.events }]));
    add(new ReadOnScrape("parley_deliveries_total", "Stored events written to live subscriptions on this instance.", "counter", () => [{ value: this.lag.count }]));
    add(
      new ReadOnScrape("parley_delivery_lag_seconds", "From the commit of an event to its write on a live subscription's socket.", "histogram", () =>
        histogramSamples("parley_delivery_lag_seconds", this.lag),
      ),
    );
    add(
      new ReadOnScrape("parley_send_duration_seconds", "message.send from the call to its answer (limits, storing, publishing).", "histogram", () =>
        histogramSamples("parley_send_duration_seconds", this.sends),
      ),
    );
    add(
      new ReadOnScrape("parley_db_operation_seconds", "Database store calls by operation (packages/db's message store, event log and search).", "histogram", () =>
        [...this.database].flatMap(([operation, distribution]) => histogramSamples("parley_db_operation_seconds", distribution, { operation })),
      ),
    );
    add(
      new ReadOnScrape("parley_writer_batch_size", "Requests per group-committed batch, by writer.", "histogram", () =>
        [...this.batches].flatMap(([writer, distribution]) => histogramSamples("parley_writer_batch_size", distribution, { writer })),
      ),
    );
    add(
      new ReadOnScrape("parley_rate_limited_total", "Calls and connections a limit refused, by limit.", "counter", () =>
        [...this.refusalsByKind].map(([kind, value]) => ({ labels: { kind }, value })),
      ),
    );
    this.eventLoop.enable();
    this.tallies.push(this.tally(Date.now()));
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.sampler.unref();
  }

  /** Where the gauges read from, once the server has them. */
  watch(gauges: ServerGauges): void {
    this.gauges = gauges;
  }

  messagesStored(count: number): void {
    this.messages += count;
  }

  eventsCommitted(count: number): void {
    this.events += count;
  }

  delivered(lagSeconds: number): void {
    // Across instances the two ends are two machines' clocks: a skew must not make a sum go down.
    this.lag.observe(lagSeconds > 0 ? lagSeconds : 0);
  }

  sendCompleted(seconds: number): void {
    this.sends.observe(seconds);
  }

  databaseTimer(operation: string): (seconds: number) => void {
    let distribution = this.database.get(operation);
    if (!distribution) {
      distribution = new Distribution(DATABASE_BUCKETS);
      this.database.set(operation, distribution);
    }
    const timed = distribution;
    return (seconds) => timed.observe(seconds);
  }

  batchSizes(writer: WriterName): (size: number) => void {
    const distribution = this.batches.get(writer) as Distribution;
    return (size) => distribution.observe(size);
  }

  rateLimited(kind: RateLimitKind): void {
    this.refusalsByKind.set(kind, (this.refusalsByKind.get(kind) ?? 0) + 1);
    this.refusals += 1;
  }

  /** The Prometheus text exposition of everything. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  snapshot(): Promise<MetricsSnapshot> {
    const now = Date.now();
    const current = this.tally(now);
    const since = this.tallies.find((t) => now - t.at <= WINDOW_MS) ?? current;
    const seconds = (current.at - since.at) / 1000;
    const perSecond = (key: "messages" | "events" | "deliveries" | "refusals") => (seconds > 0 ? (current[key] - since[key]) / seconds : 0);
    const mean = (count: number, sum: number) => (count > 0 ? (sum / count) * 1000 : null);
    const redisUp = this.gauges.redisUp();
    const memory = process.memoryUsage();
    return Promise.resolve({
      at: new Date(now).toISOString(),
      windowSeconds: seconds,
      connections: this.gauges.connections(),
      subscriptions: this.gauges.subscriptions(),
      messagesPerSecond: perSecond("messages"),
      eventsPerSecond: perSecond("events"),
      deliveriesPerSecond: perSecond("deliveries"),
      rateLimitedPerSecond: perSecond("refusals"),
      meanDeliveryLagMs: mean(current.deliveries - since.deliveries, current.lagSum - since.lagSum),
      meanSendLatencyMs: mean(current.sendCount - since.sendCount, current.sendSum - since.sendSum),
      eventLoopDelayP99Ms: this.lastEventLoopP99Ms ?? this.eventLoopP99Ms(),
      redis: redisUp === null ? null : redisUp ? "up" : "down",
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      totals: { messages: this.messages, events: this.events, deliveries: this.lag.count, rateLimited: this.refusals },
    });
  }

  /** Stops the sampler and the event loop monitor. */
  close(): void {
    clearInterval(this.sampler);
    this.eventLoop.disable();
  }

  /** Nanoseconds to milliseconds; 0 before the monitor has a sample. */
  private eventLoopP99Ms(): number {
    const p99 = this.eventLoop.percentile(99) / 1e6;
    return Number.isFinite(p99) ? p99 : 0;
  }

  private tally(at: number): Tally {
    return {
      at,
      messages: this.messages,
      events: this.events,
      deliveries: this.lag.count,
      refusals: this.refusals,
      lagSum: this.lag.sum,
      sendCount: this.sends.count,
      sendSum: this.sends.sum,
    };
  }

  private sample(): void {
    const now = Date.now();
    this.tallies.push(this.tally(now));
    while (now - (this.tallies[0] as Tally).at > WINDOW_MS) this.tallies.shift();
    this.lastEventLoopP99Ms = this.eventLoopP99Ms();
    this.eventLoop.reset();
  }
}
