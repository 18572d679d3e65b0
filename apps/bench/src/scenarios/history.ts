// Scenario 4: message.list on a conversation holding a million messages. The rows are seeded with
// SQL in batches into a database the server has migrated (with the server's own in-process
// database connection, so the bench needs no driver of its own), then the server is started
// pinned and asked for pages over HTTP, one call at a time.
import { startServer } from "@parley/server";
import { parleyOn, prepareDatabase, type RunContext } from "../context.js";
import type { Provider } from "../databases.js";
import { apiClient } from "../setup.js";
import { Samples, type Distribution } from "../stats.js";

export interface HistoryResult {
  provider: Provider;
  messages: number;
  calls: number;
  /** The newest page (no cursor): what opening a conversation asks for. */
  newest: Distribution;
  /** A page before a random cursor anywhere in the history: scrolling back. */
  deep: Distribution;
  errors: number;
  seedSeconds: number;
}

const PAGE = 50;

export async function runHistory(context: RunContext, provider: Provider): Promise<HistoryResult> {
  const { messages, calls, seedBatch } = context.params.history;
  const database = await prepareDatabase(context, provider, `s4-${provider}`, 2, [[0, 1]]);
  try {
    const conversationId = database.conversationIds[0] ?? "";
    const seedStarted = performance.now();
    const { firstId, lastId } = await seed(context, database.url, database.users[0]?.accessToken ?? "", conversationId, messages, seedBatch);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    context.log(`${provider}: ${messages} messages seeded in ${seedSeconds.toFixed(0)} s`);

    const deployment = await parleyOn(context, database).start();
    try {
      const [user] = await database.freshUsers(deployment.endpoints[0] ?? "");
      const base = `${deployment.endpoints[0]}/trpc/message.list?input=`;
      const headers = { authorization: `Bearer ${user?.accessToken ?? ""}` };
      let errors = 0;
      const page = async (cursor: bigint | null): Promise<number> => {
        const input = cursor === null ? { conversationId, limit: PAGE } : { conversationId, limit: PAGE, cursor: cursor.toString() };
        const started = performance.now();
        const response = await fetch(base + encodeURIComponent(JSON.stringify(input)), { headers });
        const body = (await response.json()) as { result?: { data?: { items?: unknown[] } } };
        const elapsed = performance.now() - started;
        if (!response.ok || body.result?.data?.items?.length !== PAGE) errors += 1;
        return elapsed;
      };
      const random = mulberry32(42);
      const randomCursor = () => firstId + BigInt(PAGE) + BigInt(Math.floor(random() * Number(lastId - firstId - BigInt(PAGE))));
      for (let i = 0; i < 50; i += 1) await page(i % 2 === 0 ? null : randomCursor());
      const newest = new Samples();
      const deep = new Samples();
      const deadline = Date.now() + 300_000;
      for (let i = 0; i < calls && Date.now() < deadline; i += 1) {
        newest.push(await page(null));
        deep.push(await page(randomCursor()));
      }
      const result = { provider, messages, calls: newest.count, newest: newest.distribution(), deep: deep.distribution(), errors, seedSeconds };
      context.log(
        `${provider}: message.list over ${messages} messages: newest page p50 ${result.newest.p50.toFixed(2)} p99 ${result.newest.p99.toFixed(2)} ms; ` +
          `random cursor p50 ${result.deep.p50.toFixed(2)} p99 ${result.deep.p99.toFixed(2)} ms; errors ${errors}`,
      );
      return result;
    } finally {
      await deployment.stop();
    }
  } finally {
    await database.drop();
  }
}

/**
 * Sends one real message through the API (so the row has every column as the server writes it),
 * then copies it `count - 1` times with SQL, `batch` rows per statement.
 */
async function seed(context: RunContext, databaseUrl: string, accessToken: string, conversationId: string, count: number, batch: number): Promise<{ firstId: bigint; lastId: bigint }> {
  const server = await startServer(
    { port: 0, host: "127.0.0.1", databaseUrl, jwtSecret: context.jwtSecret, webDistDir: null, logLevel: "warn" },
    { logger: { debug: () => undefined, info: () => undefined, warn: context.log, error: context.log } },
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
    return { firstId: BigInt(first.id), lastId: newest?.id ?? BigInt(first.id) };
  } finally {
    await server.close();
  }
}

/** A small seeded PRNG, so every run asks for the same cursors. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
