// Cost of one message.send's rate-limit check (take), in memory and through Redis.
// Run: pnpm --filter @parley/server exec tsx ../../packages/api/test/limiter.bench.ts [redis://127.0.0.1:6379]
import { performance } from "node:perf_hooks";
import { MemoryLimiterStore, RedisLimiterStore, WindowCounter, type Limiter } from "../src/auth/rate-limit.js";
import { systemClock } from "../src/clock.js";

const LIMIT = { max: 1_000_000_000, windowSeconds: 60 };
const USERS = 1_000;

async function measure(name: string, take: (key: string) => number | Promise<number>, count: number, inFlight = 1): Promise<void> {
  for (let i = 0; i < Math.min(count, 10_000); i += 1) await take(`warm${i % USERS}`);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) await take(`user${next++ % USERS}`);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - started;
  console.log(`${name.padEnd(44)} ${((ms * 1000) / count).toFixed(2).padStart(8)} us/take  ${Math.round((count / ms) * 1000).toLocaleString("en").padStart(10)} takes/s`);
}

const counter = new WindowCounter(LIMIT, systemClock);
await measure("WindowCounter.take (sync, before)", (key) => counter.take(key), 2_000_000);
const memory: Limiter = new MemoryLimiterStore(systemClock).limiter("bench", LIMIT);
await measure("Limiter.take, memory (awaited)", (key) => memory.take(key), 2_000_000);
const url = process.argv[2];
if (url) {
  const store = new RedisLimiterStore({ url, keyPrefix: `parley:bench:${process.pid}` });
  await store.ready(5_000);
  const redis = store.limiter("bench", LIMIT);
  await measure("Limiter.take, Redis, one at a time", (key) => redis.take(key), 20_000);
  await measure("Limiter.take, Redis, 64 in flight", (key) => redis.take(key), 100_000, 64);
  store.close();
}
