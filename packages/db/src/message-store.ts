// The two queries every message goes through - storing it and reading a page of a conversation -
// written against the drivers directly, one implementation per provider.
//
// Why not Prisma here: profiled under load (apps/bench, scenario 1) Prisma 6.19's per-query work
// (query compiler, argument mapping, re-preparing the statement on every call in the SQLite
// adapter) took about half of the server's CPU, most of it on these two paths. Everything else
// stays on Prisma. Both implementations share the Prisma client's connection (SQLite) or pool
// (PostgreSQL), and are tested against the same expectations (test/message-store.test.ts).
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import {
  fromPostgres,
  fromSqlite,
  NEW_MESSAGE_COLUMNS,
  POSTGRES_MESSAGE_COLUMNS,
  SQLITE_MESSAGE_COLUMNS,
  type NewMessageRow,
  type NewMessageValues,
  type PostgresMessageRow,
  type SqliteMessageRow,
  type StoredMessage,
} from "./message-columns.js";

export interface InsertResult {
  /** One entry per input, in input order: `created` false when the sender's clientMessageId was already stored. */
  results: { message: StoredMessage; created: boolean }[];
  /** The newest message id in the database before this batch. */
  prevId: bigint;
}

export interface MessageStore {
  /**
   * Stores the messages in one transaction, in order, under the lock that orders message ids
   * (commit order = id order). A message whose (senderId, clientMessageId) is stored already is
   * not stored again: its entry is the stored row.
   */
  insert(messages: readonly NewMessageRow[]): Promise<InsertResult>;
  /** Up to `limit` messages of a conversation with ids below `beforeId` (all when null), newest first. */
  page(conversationId: string, beforeId: bigint | null, limit: number): Promise<StoredMessage[]>;
  /** The newest stored message id, 0 when there is none. */
  latestId(): Promise<bigint>;
}

/** Key of the PostgreSQL advisory lock that orders message inserts across instances. */
export const MESSAGE_ORDER_LOCK = 72_707_370;

const quoted = (name: string) => `"${name}"`;
/** The INSERT's columns: a sender's, then the time of storage. */
const INSERT_COLUMNS = [...NEW_MESSAGE_COLUMNS, "createdAt"].map(quoted).join(", ");

// ---------------------------------------------------------------------------------------------
// SQLite (better-sqlite3: synchronous, so a transaction here can never interleave with other work)

/** How Prisma's SQLite adapter writes a DateTime (its default "iso8601" format); read back by both. */
const sqliteTimestamp = (date: Date) => date.toISOString().replace("Z", "+00:00");

/** How long an insert waits for a transaction Prisma has open on the shared connection to end. */
const SQLITE_TRANSACTION_WAIT_MS = 10_000;

export function sqliteMessageStore(client: BetterSqlite3.Database): MessageStore {
  // Prepared on first use: the database may not be migrated yet when it is opened.
  let prepared: ReturnType<typeof prepareSqlite> | null = null;
  const statements = () => (prepared ??= prepareSqlite(client));

  return {
    async insert(messages) {
      // Prisma runs its own transactions on this connection with awaits between statements; a
      // write now would join one (and be rolled back with it). Wait for it to end.
      const deadline = Date.now() + SQLITE_TRANSACTION_WAIT_MS;
      while (client.inTransaction) {
        if (Date.now() > deadline) throw new Error("timed out waiting for a transaction on the SQLite connection");
        await new Promise((resolve) => setImmediate(resolve));
      }
      // IMMEDIATE: take the write lock at BEGIN, so the id read first is still the newest at the insert.
      return statements().insertAll.immediate(messages);
    },
    async page(conversationId, beforeId, limit) {
      const { pageFrom, pageBefore } = statements();
      const rows = beforeId === null ? pageFrom.all(conversationId, limit) : pageBefore.all(conversationId, beforeId, limit);
      return rows.map(fromSqlite);
    },
    async latestId() {
      return statements().latest();
    },
  };
}

function prepareSqlite(client: BetterSqlite3.Database) {
  const insertOne = client.prepare<[...NewMessageValues, createdAt: string], SqliteMessageRow>(
    `INSERT INTO "Message" (${INSERT_COLUMNS}) VALUES (${NEW_MESSAGE_COLUMNS.map(() => "?").join(", ")}, ?) ` +
      `ON CONFLICT ("senderId", "clientMessageId") DO NOTHING RETURNING ${SQLITE_MESSAGE_COLUMNS}`,
  );
  const bySenderKey = client.prepare<[string, string], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "senderId" = ? AND "clientMessageId" = ?`);
  const newest = client.prepare<[], { id: bigint }>(`SELECT "id" FROM "Message" ORDER BY "id" DESC LIMIT 1`);
  const pageFrom = client.prepare<[string, number], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = ? ORDER BY "id" DESC LIMIT ?`);
  const pageBefore = client.prepare<[string, bigint, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = ? AND "id" < ? ORDER BY "id" DESC LIMIT ?`,
  );
  const latest = () => newest.get()?.id ?? 0n;

  const insertAll = client.transaction((messages: readonly NewMessageRow[]): InsertResult => {
    const prevId = latest();
    const createdAt = sqliteTimestamp(new Date());
    const results = messages.map((m) => {
      const inserted = insertOne.get(m.conversationId, m.senderId, m.content, m.clientMessageId, createdAt);
      if (inserted) return { message: fromSqlite(inserted), created: true };
      const existing = bySenderKey.get(m.senderId, m.clientMessageId);
      if (!existing) throw new Error("a message conflicted on its clientMessageId but none is stored");
      return { message: fromSqlite(existing), created: false };
    });
    return { results, prevId };
  });
  return { insertAll, pageFrom, pageBefore, latest };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (pg: named statements are prepared once per connection)

/** One row per array element, in input order (the order ids are drawn in); a key stored already is skipped. */
const POSTGRES_INSERT =
  `INSERT INTO "Message" (${INSERT_COLUMNS}) ` +
  `SELECT ${NEW_MESSAGE_COLUMNS.map(quoted).join(", ")}, $${NEW_MESSAGE_COLUMNS.length + 1}::timestamp(3) ` +
  `FROM unnest(${NEW_MESSAGE_COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(", ")}) WITH ORDINALITY AS m(${NEW_MESSAGE_COLUMNS.map(quoted).join(", ")}, n) ORDER BY n ` +
  `ON CONFLICT ("senderId", "clientMessageId") DO NOTHING RETURNING ${POSTGRES_MESSAGE_COLUMNS}`;

const keyOf = (m: { senderId: string; clientMessageId: string }) => `${m.senderId}\u0000${m.clientMessageId}`;

export function postgresMessageStore(pool: pg.Pool): MessageStore {
  return {
    async insert(messages) {
      const client = await pool.connect();
      let failed = true;
      try {
        // One round trip: begin, take the ordering lock, read the newest id.
        const opened = (await client.query(
          `BEGIN; SELECT pg_advisory_xact_lock(${MESSAGE_ORDER_LOCK}); SELECT "id"::text AS "id" FROM "Message" ORDER BY "Message"."id" DESC LIMIT 1`,
        )) as unknown as pg.QueryResult<{ id: string }>[];
        const prevId = BigInt(opened[2]?.rows[0]?.id ?? "0");
        const createdAt = new Date();
        const inserted = await client.query<PostgresMessageRow>({
          name: "parley-message-insert",
          text: POSTGRES_INSERT,
          values: [...NEW_MESSAGE_COLUMNS.map((column) => messages.map((m) => m[column])), createdAt.toISOString()],
        });
        const stored = new Map(inserted.rows.map((row) => [keyOf(row), { message: fromPostgres(row), created: true }]));
        const missing = messages.filter((m) => !stored.has(keyOf(m)));
        if (missing.length > 0) {
          // Stored before (a retry, or the same send racing on another instance).
          const existing = await client.query<PostgresMessageRow>({
            name: "parley-message-by-sender-keys",
            text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE ("senderId", "clientMessageId") IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
            values: [missing.map((m) => m.senderId), missing.map((m) => m.clientMessageId)],
          });
          for (const row of existing.rows) if (!stored.has(keyOf(row))) stored.set(keyOf(row), { message: fromPostgres(row), created: false });
        }
        await client.query("COMMIT");
        failed = false;
        // The same key twice in one batch: the first is the one stored, the second a retry of it.
        const answered = new Set<string>();
        const results = messages.map((m) => {
          const key = keyOf(m);
          const result = stored.get(key);
          if (!result) throw new Error("a message conflicted on its clientMessageId but none is stored");
          const created = result.created && !answered.has(key);
          answered.add(key);
          return { message: result.message, created };
        });
        return { results, prevId };
      } finally {
        if (failed) await client.query("ROLLBACK").catch(() => undefined);
        // A connection that failed mid-transaction is not handed out again.
        client.release(failed);
      }
    },
    async page(conversationId, beforeId, limit) {
      const result =
        beforeId === null
          ? await pool.query<PostgresMessageRow>({
              name: "parley-message-page",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = $1 ORDER BY "Message"."id" DESC LIMIT $2`,
              values: [conversationId, limit],
            })
          : await pool.query<PostgresMessageRow>({
              name: "parley-message-page-before",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = $1 AND "Message"."id" < $2 ORDER BY "Message"."id" DESC LIMIT $3`,
              values: [conversationId, beforeId.toString(), limit],
            });
      return result.rows.map(fromPostgres);
    },
    async latestId() {
      const result = await pool.query<{ id: string }>(`SELECT "id"::text AS "id" FROM "Message" ORDER BY "Message"."id" DESC LIMIT 1`);
      return BigInt(result.rows[0]?.id ?? "0");
    },
  };
}
