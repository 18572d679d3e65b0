// The search scenario's seeding, run as its own process by scenarios/search.ts:
//   node --import tsx src/seed-search.ts '<SearchSeedRequest as JSON>'
// Writes progress lines to stderr and `{"seconds": n}` on its last stdout line. It opens the
// database through the server's own code (startServer, in process: that migrates it), signs one
// user up through the API for a real password hash, and writes every other row with SQL in the
// shape the message store writes them: each message with its "message.created" event, its id the
// event's.
//
// The search index is built as the product builds it. SQLite: by the server's search indexer
// (packages/db/src/search-indexer.ts), behind the inserts as behind every send, and the rest when
// the server closes. PostgreSQL: the GIN index is dropped and made
// again after the rows are in, from its own definition (pg_get_indexdef), as the search
// migration's CREATE INDEX built it over the messages stored before it: entry by entry through
// the pending list, a million rows would take several times longer, and the result is the same
// index.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, startServer } from "@parley/server";
import type { PrismaClient } from "@parley/db";
import { SearchCorpus, type CorpusShape } from "./search-corpus.js";
import { apiClient, BENCH_PASSWORD } from "./setup.js";

export interface SearchSeedRequest {
  databaseUrl: string;
  jwtSecret: string;
  shape: CorpusShape;
}

/** Messages per INSERT (one JSON parameter), each batch one transaction with its events. */
const BATCH = 10_000;
/** The seeded history spans about a year before this moment, a message every 30 seconds. */
const EPOCH_MS = Date.UTC(2026, 0, 1);
const SPACING_MS = 30_000;

/** Prisma ends a transaction after 5 s by default; a batch or an index build on a busy machine takes longer. */
const LONG_TRANSACTION = { timeout: 20 * 60_000, maxWait: 60_000 };

const progress = (line: string) => process.stderr.write(`${line}\n`);

export async function seedSearch({ databaseUrl, jwtSecret, shape }: SearchSeedRequest): Promise<number> {
  const started = performance.now();
  const postgres = databaseUrl.startsWith("postgres");
  const server = await startServer(
    { port: 0, host: "127.0.0.1", databaseUrl, jwtSecret, webDistDir: null, logLevel: "warn" },
    { logger: createLogger("warn", (line) => process.stderr.write(line)) },
  );
  try {
    server.services.hub.close();
    const donor = await apiClient(server.url).auth.signup.mutate({ username: "sbhash", password: BENCH_PASSWORD });
    const prisma = server.services.db.prisma;
    const { passwordHash } = await prisma.user.findUniqueOrThrow({ where: { id: donor.id }, select: { passwordHash: true } });
    const corpus = new SearchCorpus(shape);
    const rows = jsonRows(postgres);
    const time = (ms: number) => (postgres ? new Date(ms).toISOString() : new Date(ms).toISOString().replace("Z", "+00:00"));

    await prisma.$executeRawUnsafe(
      `INSERT INTO "User" ("id", "username", "passwordHash") SELECT ${rows.columns(["text", "text", "text"])} FROM ${rows.source}`,
      JSON.stringify(corpus.userIds.map((id, i) => [id, corpus.usernames[i], passwordHash])),
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO "Conversation" ("id", "title") SELECT ${rows.columns(["text", "text"])} FROM ${rows.source}`,
      JSON.stringify(corpus.conversationIds.map((id, i) => [id, `search room ${i}`])),
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO "ConversationMember" ("conversationId", "userId", "role") SELECT ${rows.columns(["text", "text", "text"])} FROM ${rows.source}`,
      JSON.stringify(corpus.membersOf.flatMap((members, c) => members.map((user, k) => [corpus.conversationIds[c], corpus.userIds[user], k === 0 ? "owner" : "member"]))),
    );
    progress(`${shape.users} users in ${shape.conversations} conversations (${corpus.membersOf.reduce((n, m) => n + m.length, 0)} memberships)`);

    const searchIndexes = postgres ? await dropSearchIndexes(prisma) : [];
    let lastReport = performance.now();
    for (let done = 0; done < shape.messages; done += BATCH) {
      const batch: [number, string, string, string, string, string][] = [];
      for (let i = done; i < Math.min(shape.messages, done + BATCH); i += 1) {
        const m = corpus.message(i);
        batch.push([i + 1, corpus.conversationIds[m.conversation] ?? "", corpus.userIds[m.sender] ?? "", m.content, `seed-${i + 1}`, time(EPOCH_MS + i * SPACING_MS)]);
      }
      const json = JSON.stringify(batch);
      const [id, conversationId, senderId, content, clientMessageId, createdAt] = rows.fields(["bigint", "text", "text", "text", "text", "timestamp"]);
      await prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(
            `INSERT INTO "Message" ("id", "conversationId", "senderId", "content", "clientMessageId", "createdAt") ` +
              `SELECT ${id}, ${conversationId}, ${senderId}, ${content}, ${clientMessageId}, ${createdAt} FROM ${rows.source}`,
            json,
          );
          await tx.$executeRawUnsafe(
            `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "createdAt") SELECT ${id}, 'message.created', ${conversationId}, ${id}, ${createdAt} FROM ${rows.source}`,
            json,
          );
        },
        LONG_TRANSACTION,
      );
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`${done + batch.length} of ${shape.messages} messages, ${((lastReport - started) / 1000).toFixed(0)} s`);
      }
    }
    if (postgres) {
      progress(`rows in after ${((performance.now() - started) / 1000).toFixed(0)} s; building the search index`);
      for (const definition of searchIndexes) {
        await prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`SET LOCAL maintenance_work_mem = '256MB'`);
          await tx.$executeRawUnsafe(definition);
        }, LONG_TRANSACTION);
      }
      // What autovacuum would have done for a table that grew to this size over time.
      await prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
    } else {
      await prisma.$executeRawUnsafe(`ANALYZE`);
      await prisma.$queryRawUnsafe(`PRAGMA wal_checkpoint(TRUNCATE)`);
    }
    return (performance.now() - started) / 1000;
  } finally {
    await server.close();
  }
}

type Column = "text" | "bigint" | "timestamp";

/** Rows sent as one JSON array of arrays, read back as a table by each provider's JSON functions. */
function jsonRows(postgres: boolean) {
  const field = (index: number, type: Column) => (postgres ? `(e->>${index})::${type === "text" ? "text" : type === "bigint" ? "bigint" : "timestamp(3)"}` : `json_extract(e.value, '$[${index}]')`);
  const fields = (types: Column[]) => types.map((type, i) => field(i, type));
  return {
    source: postgres ? `json_array_elements($1::json) AS e` : `json_each(?) AS e`,
    fields,
    columns: (types: Column[]) => fields(types).join(", "),
  };
}

/** Drops the GIN indexes of "Message" and returns the statements that make them again. */
async function dropSearchIndexes(prisma: PrismaClient): Promise<string[]> {
  const indexes = await prisma.$queryRawUnsafe<{ name: string; definition: string }[]>(
    `SELECT c.relname::text AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i ` +
      `JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = '"Message"'::regclass AND am.amname = 'gin'`,
  );
  if (indexes.length === 0) throw new Error(`"Message" has no GIN index: has the search migration run?`);
  for (const { name } of indexes) await prisma.$executeRawUnsafe(`DROP INDEX "${name}"`);
  return indexes.map((index) => index.definition);
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isEntryPoint) {
  const seconds = await seedSearch(JSON.parse(process.argv[2] ?? "{}") as SearchSeedRequest);
  console.log(JSON.stringify({ seconds }));
}
