// SQLite's search index, written behind the messages rather than in each message's transaction.
//
// FTS5 writes a new segment of its index at every commit that adds to it, so indexing each message
// in its own (group-committed) transaction cost about 60 us of CPU per message: scripts/insert-cost.ts
// measured 190.7 -> 124.8 us per message in batches of 1 and 135.5 -> 75.6 in batches of 4 with the
// index written here instead, where a few hundred messages at a time cost 2-4 us each. The
// indexer keeps "MessageSearchState".indexedThroughId: every message at or below it that is not
// deleted is in the index and none above it is (the migration's triggers change the index for an
// edit or delete of an indexed message only). It indexes what is pending every interval, and a
// search indexes it first, so a search always sees every message stored before it.
// PostgreSQL needs none of this: its GIN index takes new rows into a pending list of its own.
import type BetterSqlite3 from "better-sqlite3";
import { CJK_GLOB } from "./message-search.js";
import { waitForTransactionEnd } from "./message-store.js";

/** How often pending messages are indexed. */
export const INDEX_INTERVAL_MS = 200;
/** Messages indexed per transaction at most: a long backlog is indexed in steps, not one long lock. */
export const INDEX_STEP = 2_000;

export interface SearchIndexer {
  /** Indexes every message stored so far that is not yet indexed; resolves with how many it read. */
  indexPending(): Promise<number>;
  stop(): Promise<void>;
}

export function startSearchIndexer(client: BetterSqlite3.Database, intervalMs = INDEX_INTERVAL_MS): SearchIndexer {
  // Prepared on first use: the database may not be migrated yet when it is opened.
  let statements: ReturnType<typeof prepare> | null = null;
  let stopped = false;
  const step = () => {
    statements ??= prepare(client);
    return statements.indexStep.immediate();
  };
  const indexPending = async () => {
    let read = 0;
    for (;;) {
      await waitForTransactionEnd(client);
      const rows = step();
      read += rows;
      if (rows < INDEX_STEP) return read;
    }
  };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // One run at a time; a failed run (the file busy, the database closing) is retried at the next interval.
    running = running.then(() => (stopped ? 0 : indexPending())).catch(() => 0);
  }, intervalMs);
  timer.unref();
  return {
    indexPending: () => {
      const run = running.then(() => indexPending());
      running = run.catch(() => 0);
      return run;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      // What was stored last is indexed before the connection closes (a database without the table, never migrated, has nothing to index).
      try {
        await indexPending();
      } catch {
        // Indexed at the next start instead.
      }
    },
  };
}

function prepare(client: BetterSqlite3.Database) {
  const through = client.prepare<[], bigint>(`SELECT "indexedThroughId" FROM "MessageSearchState" WHERE "id" = 1`).pluck().safeIntegers();
  const pending = client
    .prepare<[bigint, number], { to: bigint | null; rows: bigint }>(`SELECT max("id") AS "to", count(*) AS "rows" FROM (SELECT "id" FROM "Message" WHERE "id" > ? ORDER BY "id" LIMIT ?)`)
    .safeIntegers();
  const words = client.prepare<[bigint, bigint]>(
    `INSERT INTO "MessageSearch" ("rowid", "content", "conversationId", "senderId") SELECT "id", "content", "conversationId", "senderId" FROM "Message" WHERE "id" > ? AND "id" <= ? AND "deletedAt" IS NULL`,
  );
  const cjk = client.prepare<[bigint, bigint]>(
    `INSERT INTO "MessageSearchCjk" ("rowid", "content") SELECT "id", "content" FROM "Message" WHERE "id" > ? AND "id" <= ? AND "deletedAt" IS NULL AND "content" GLOB '${CJK_GLOB}'`,
  );
  const moveTo = client.prepare<[bigint]>(`UPDATE "MessageSearchState" SET "indexedThroughId" = ? WHERE "id" = 1`);
  const indexStep = client.transaction((): number => {
    const from = through.get() ?? 0n;
    const { to, rows } = pending.get(from, INDEX_STEP) ?? { to: null, rows: 0n };
    if (to === null) return 0;
    words.run(from, to);
    cjk.run(from, to);
    moveTo.run(to);
    return Number(rows);
  });
  return { indexStep };
}
