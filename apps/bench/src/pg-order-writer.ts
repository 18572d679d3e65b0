// One writer process of the pg-order scenario (scenarios/pg-order.ts): opens the database as a
// server does and writes into the one event order for a fixed time, `concurrency` writes in flight.
//   messages: db.messages.insert with group commit, as MessageWriter batches (everything that is
//             waiting when a batch ends goes into the next one, at most 100);
//   reads:    db.messages.markRead with group commit, as the server's ReadWriter batches
//             (conversation.markRead): each request moves a member's pointer forward, counts
//             what is left and appends a read.updated event; only moves count as committed.
// Prints one JSON line: events committed in the measured window and each commit's latency.
import { randomUUID } from "node:crypto";
import { openDatabase, type NewMessage, type ReadRequest } from "@parley/db";

const [url, kind, concurrencyText, warmupText, measureText, seedText] = process.argv.slice(2);
if (!url || (kind !== "messages" && kind !== "reads")) throw new Error("usage: pg-order-writer URL messages|reads CONCURRENCY WARMUP_MS MEASURE_MS SEED_JSON");
const concurrency = Number(concurrencyText);
const seed = JSON.parse(seedText ?? "{}") as { members: { userId: string; conversationId: string }[]; messageId: string };

const db = await openDatabase(url);
const start = performance.now() + Number(warmupText);
const end = start + Number(measureText);
let committed = 0;
const latencies: number[] = [];
const inWindow = (at: number) => at >= start && at < end;

// Group commit, as apps' MessageWriter does it: one insert at a time, the waiting ones together.
const waiting: { message: NewMessage; at: number; done: () => void }[] = [];
let flushing = false;
async function flush(): Promise<void> {
  flushing = true;
  while (waiting.length > 0) {
    const batch = waiting.splice(0, 100);
    await db.messages.insert(batch.map((w) => w.message));
    const now = performance.now();
    for (const w of batch) {
      if (inWindow(w.at)) {
        committed += 1;
        latencies.push(now - w.at);
      }
      w.done();
    }
  }
  flushing = false;
}
function sendOne(member: { userId: string; conversationId: string }): Promise<void> {
  return new Promise((done) => {
    const message: NewMessage = { conversationId: member.conversationId, senderId: member.userId, content: "pg-order bench message", clientMessageId: randomUUID() };
    waiting.push({ message, at: performance.now(), done });
    if (!flushing) setImmediate(() => void flush());
  });
}

// Pointers only move forward: each request names a larger (made-up) message id than any before it
// in this process, and processes start apart in time. The store does not require the message to exist.
let readCounter = 0n;
const readBase = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000)) * 1_000n;
const readsWaiting: { request: ReadRequest; at: number; done: () => void }[] = [];
let readsFlushing = false;
async function flushReads(): Promise<void> {
  readsFlushing = true;
  while (readsWaiting.length > 0) {
    const batch = readsWaiting.splice(0, 200);
    const { results } = await db.messages.markRead(batch.map((w) => w.request));
    const now = performance.now();
    for (const [i, w] of batch.entries()) {
      if (inWindow(w.at) && results[i]?.status === "moved") {
        committed += 1;
        latencies.push(now - w.at);
      }
      w.done();
    }
  }
  readsFlushing = false;
}
function readOne(member: { userId: string; conversationId: string }): Promise<void> {
  return new Promise((done) => {
    readCounter += 1n;
    readsWaiting.push({ request: { conversationId: member.conversationId, userId: member.userId, messageId: readBase + readCounter }, at: performance.now(), done });
    if (!readsFlushing) setImmediate(() => void flushReads());
  });
}

async function loop(index: number): Promise<void> {
  let i = index;
  while (performance.now() < end) {
    const member = seed.members[i % seed.members.length];
    if (!member) return;
    i += concurrency;
    await (kind === "messages" ? sendOne(member) : readOne(member));
  }
}
await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
await db.close();
console.log(JSON.stringify({ committed, latencies }));
