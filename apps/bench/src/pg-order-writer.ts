// One writer process of the pg-order scenario (scenarios/pg-order.ts): opens the database as a
// server does and writes into the one event order for a fixed time, `concurrency` writes in flight.
//   messages: db.messages.insert with group commit, as MessageWriter batches (everything that is
//             waiting when a batch ends goes into the next one, at most 100);
//   reads:    db.events.inEventOrder with what markRead does under the lock (read the member,
//             move its pointer, append a read.updated event), one event per transaction.
// Prints one JSON line: events committed in the measured window and each commit's latency.
import { randomUUID } from "node:crypto";
import { openDatabase, type NewMessage } from "@parley/db";

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

let readCounter = 0n;
async function readOne(member: { userId: string; conversationId: string }): Promise<void> {
  const at = performance.now();
  readCounter += 1n;
  const pointer = BigInt(seed.messageId);
  await db.events.inEventOrder(async ({ tx, append }) => {
    const key = { conversationId_userId: { conversationId: member.conversationId, userId: member.userId } };
    await tx.conversationMember.findUnique({ where: key, select: { lastReadMessageId: true } });
    await tx.conversationMember.update({ where: key, data: { lastReadMessageId: pointer, unreadCount: 0, mentionCount: 0 } });
    await append({ kind: "read.updated", conversationId: member.conversationId, userId: member.userId, messageId: pointer, data: JSON.stringify({ lastReadMessageId: pointer.toString(), unreadCount: 0, mentionCount: 0, n: readCounter.toString() }) });
  });
  if (inWindow(at)) {
    committed += 1;
    latencies.push(performance.now() - at);
  }
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
