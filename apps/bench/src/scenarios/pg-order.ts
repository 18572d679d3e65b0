// The ceiling of the one order on PostgreSQL: events committed per second when 1, 2 and 4 processes
// (instances) write at once, each as a server does (src/pg-order-writer.ts), first messages through
// db.messages.insert with group commit, then read pointers (conversation.markRead's path,
// db.messages.markRead with group commit). Needs only PostgreSQL: the database is created, migrated, seeded with
// users and conversations directly, and dropped.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { migrate, openDatabase } from "@parley/db";
import type { RunContext } from "../context.js";
import { emptyPostgresDatabase } from "../databases.js";
import { benchDir } from "../processes.js";
import { distributionOf, type Distribution } from "../stats.js";

const run = promisify(execFile);
const writerEntry = fileURLToPath(new URL("../pg-order-writer.ts", import.meta.url));

/** Writes in flight per process: like the sends of many connections waiting on one instance. */
const CONCURRENCY = 64;
const WARMUP_MS = 2_000;
const MEASURE_MS = 6_000;
const USERS = 200;
const ROOM_SIZE = 10;

export interface PgOrderRun {
  kind: "messages" | "reads";
  writers: number;
  eventsPerSecond: number;
  latency: Distribution;
}

export interface PgOrderResult {
  concurrencyPerWriter: number;
  measureMs: number;
  runs: PgOrderRun[];
}

export async function runPgOrder(context: RunContext, adminUrl: string): Promise<PgOrderResult> {
  const database = await emptyPostgresDatabase(adminUrl, context.runId, "pgorder");
  try {
    await migrate(database.url);
    const seed = await seedMembers(database.url);
    const runs: PgOrderRun[] = [];
    for (const kind of ["messages", "reads"] as const) {
      for (const writers of [1, 2, 4]) {
        const outputs = await Promise.all(
          Array.from({ length: writers }, () =>
            run(process.execPath, ["--import", "tsx", writerEntry, database.url, kind, String(CONCURRENCY), String(WARMUP_MS), String(MEASURE_MS), JSON.stringify(seed)], {
              cwd: benchDir,
              timeout: WARMUP_MS + MEASURE_MS + 60_000,
              maxBuffer: 256 * 2 ** 20,
            }),
          ),
        );
        const parsed = outputs.map(({ stdout }) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { committed: number; latencies: number[] });
        const committed = parsed.reduce((n, p) => n + p.committed, 0);
        const result: PgOrderRun = {
          kind,
          writers,
          eventsPerSecond: committed / (MEASURE_MS / 1000),
          latency: distributionOf(parsed.flatMap((p) => p.latencies)),
        };
        runs.push(result);
        context.log(
          `pg-order ${kind}, ${writers} writer(s) x ${CONCURRENCY} in flight: ${Math.round(result.eventsPerSecond)} events/s committed, ` +
            `commit p50 ${result.latency.p50.toFixed(1)} p99 ${result.latency.p99.toFixed(1)} ms`,
        );
      }
    }
    return { concurrencyPerWriter: CONCURRENCY, measureMs: MEASURE_MS, runs };
  } finally {
    await database.drop();
  }
}

/** USERS users in conversations of ROOM_SIZE and one message to point read markers at. */
async function seedMembers(url: string): Promise<{ members: { userId: string; conversationId: string }[]; messageId: string }> {
  const db = await openDatabase(url);
  try {
    const members: { userId: string; conversationId: string }[] = [];
    for (let start = 0; start < USERS; start += ROOM_SIZE) {
      const conversation = await db.prisma.conversation.create({ data: { title: `order ${start / ROOM_SIZE}` }, select: { id: true } });
      for (let k = start; k < start + ROOM_SIZE; k += 1) {
        const user = await db.prisma.user.create({ data: { username: `order${k}`, passwordHash: "-" }, select: { id: true } });
        await db.prisma.conversationMember.create({ data: { conversationId: conversation.id, userId: user.id } });
        members.push({ userId: user.id, conversationId: conversation.id });
      }
    }
    const first = members[0];
    if (!first) throw new Error("no members");
    const inserted = await db.messages.insert([{ conversationId: first.conversationId, senderId: first.userId, content: "first", clientMessageId: "pg-order-first" }]);
    const outcome = inserted.results[0];
    if (outcome?.status !== "created") throw new Error("could not store the first message");
    return { members, messageId: outcome.message.id.toString() };
  } finally {
    await db.close();
  }
}
