// Scenario 4's seeding, run as its own process by scenarios/history.ts:
//   node --import tsx src/seed-history.ts '<SeedRequest as JSON>'
// prints a SeedResult as JSON on its last line. It opens the database through the server's own
// code (startServer, in process), which migrates it, and so needs no database driver of its own.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, startServer } from "@parley/server";
import { apiClient } from "./setup.js";

export interface SeedRequest {
  databaseUrl: string;
  jwtSecret: string;
  /** Of a member of the conversation: the first message is sent through the API. */
  accessToken: string;
  conversationId: string;
  count: number;
  /** Rows per INSERT statement. */
  batch: number;
}

/** Message ids as decimal strings. */
export interface SeedResult {
  firstId: string;
  lastId: string;
}

/**
 * Sends one real message through the API (so the row has every column as the server writes it),
 * then copies it `count - 1` times with SQL, `batch` rows per statement.
 */
export async function seed({ databaseUrl, jwtSecret, accessToken, conversationId, count, batch }: SeedRequest): Promise<SeedResult> {
  // Warnings and errors to stderr: stdout carries this script's result.
  const server = await startServer(
    { port: 0, host: "127.0.0.1", databaseUrl, jwtSecret, webDistDir: null, logLevel: "warn" },
    { logger: createLogger("warn", (line) => process.stderr.write(line)) },
  );
  try {
    // Seeded rows are history, not news: the hub must not try to deliver them live.
    server.services.hub.close();
    const first = await apiClient(server.url, accessToken).message.send.mutate({
      conversationId,
      content: "seeded history ".padEnd(128, "."),
      clientMessageId: "seed-0",
    });
    const prisma = server.services.db.prisma;
    const postgres = databaseUrl.startsWith("postgres");
    for (let done = 1; done < count; done += batch) {
      const rows = Math.min(batch, count - done);
      const numbers = postgres
        ? `generate_series(1, ${rows}) AS seq(n)`
        : `(WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${rows}) SELECT n FROM seq) AS seq`;
      await prisma.$executeRawUnsafe(
        `INSERT INTO "Message" ("conversationId", "senderId", "content", "clientMessageId", "createdAt") ` +
          `SELECT m."conversationId", m."senderId", m."content", 'seed-' || (${done} + seq.n), m."createdAt" ` +
          `FROM ${numbers}, "Message" m WHERE m."id" = ${BigInt(first.id)}`,
      );
    }
    // Fresh planner statistics, as a database that grew to this size over time would have.
    await prisma.$executeRawUnsafe(postgres ? `ANALYZE "Message"` : "ANALYZE");
    const newest = await prisma.message.findFirst({ where: { conversationId }, orderBy: { id: "desc" }, select: { id: true } });
    return { firstId: first.id, lastId: (newest?.id ?? BigInt(first.id)).toString() };
  } finally {
    await server.close();
  }
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isEntryPoint) {
  const result = await seed(JSON.parse(process.argv[2] ?? "{}") as SeedRequest);
  console.log(JSON.stringify(result));
}
