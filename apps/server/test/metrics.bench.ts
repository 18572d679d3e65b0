// Cost of the metrics on the send and delivery paths: what one send and one delivery call, against
// prom-client's own counter and histogram doing the same, and a call that does nothing (the no-op
// default). Numbers per call, best of a few rounds; compare them as ratios on a shared machine.
// Run: pnpm --filter @parley/server exec tsx test/metrics.bench.ts
import { performance } from "node:perf_hooks";
import { Counter, Histogram, Registry } from "prom-client";
import { noMetrics, type Metrics } from "@parley/api";
import { PrometheusMetrics } from "../src/metrics.js";

const CALLS = 5_000_000;
const ROUNDS = 5;
/** Lags spread over the buckets, as under load. */
const LAGS = Float64Array.from({ length: 1024 }, (_, i) => (i % 97) / 4000);

function measure(name: string, call: (i: number) => void): void {
  for (let i = 0; i < 200_000; i += 1) call(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    for (let i = 0; i < CALLS; i += 1) call(i);
    best = Math.min(best, performance.now() - started);
  }
  const ns = (best * 1e6) / CALLS;
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/call ${Math.round(1e9 / ns).toLocaleString("en").padStart(15)} calls/s`);
}

const lag = (i: number) => LAGS[i & 1023] as number;
const parley = new PrometheusMetrics();
const nothing: Metrics = noMetrics;
const registry = new Registry();
const promCounter = new Counter({ name: "bench_total", help: "bench", registers: [registry] });
const promHistogram = new Histogram({ name: "bench_seconds", help: "bench", registers: [registry], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
const promLabelled = new Histogram({ name: "bench_db_seconds", help: "bench", labelNames: ["operation"], registers: [registry] }).labels("messages.insert");
const insertTimer = parley.databaseTimer("messages.insert");
const messageBatches = parley.batchSizes("messages");

console.log("per delivery:");
measure("no-op Metrics.delivered (the default)", (i) => nothing.delivered(lag(i)));
measure("PrometheusMetrics.delivered (counter + lag histogram)", (i) => parley.delivered(lag(i)));
measure("prom-client Counter.inc + Histogram.observe (for comparison)", (i) => {
  promCounter.inc();
  promHistogram.observe(lag(i));
});
console.log("per send:");
measure("PrometheusMetrics.sendCompleted + messagesStored", (i) => {
  parley.sendCompleted(lag(i));
  parley.messagesStored(1);
});
console.log("per batch / store call:");
measure("database timer (bound to its operation)", (i) => insertTimer(lag(i)));
measure("prom-client labelled Histogram.observe (for comparison)", (i) => promLabelled.observe(lag(i)));
measure("batch size + events committed", (i) => {
  messageBatches(i & 127);
  parley.eventsCommitted(i & 127);
});
const started = performance.now();
const text = await parley.exposition();
console.log(`one scrape: ${(performance.now() - started).toFixed(2)} ms, ${text.length.toLocaleString("en")} bytes`);
parley.close();
