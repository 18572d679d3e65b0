import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { PrismaClient as SqliteClient } from "../generated/sqlite/client.js";
import { PrismaClient as PostgresClient } from "../generated/postgresql/client.js";
import { startCheckpointer } from "./checkpointer.js";
import { startSearchIndexer } from "./search-indexer.js";
import { eventLog, type EventLog } from "./event-log.js";
import { postgresMessageSearch, sqliteMessageSearch, type MessageSearch } from "./message-search.js";
import { postgresMessageStore, sqliteMessageStore, type MessageStore } from "./message-store.js";
import { providerOf, sqlitePath, type Provider } from "./provider.js";

/**
 * The Prisma client the rest of Parley uses. Both providers' clients are generated from the same
 * models (prisma/models.prisma), so they have the same model API; the SQLite one names the type.
 */
export type PrismaClient = SqliteClient;

export interface Database {
  readonly provider: Provider;
  readonly prisma: PrismaClient;
  /** Storing and paging messages, on the same connection (SQLite) or pool (PostgreSQL) as `prisma`. */
  readonly messages: MessageStore;
  /** Finding messages by their words (src/message-search.ts), over an index kept in step with every write. */
  readonly search: MessageSearch;
  /** The event log: ordered transactions for every other change, and reading the log back. */
  readonly events: EventLog;
  /**
   * After content was removed (a deleted message): makes sure no old copy of it is left in the
   * database's files that SQL cannot reach. SQLite: a TRUNCATE checkpoint empties the WAL (with
   * `secure_delete` on, the freed bytes in the database file were zeroed by the write itself);
   * waits at most `waitMs`, then leaves it to the checkpoint worker. PostgreSQL: nothing to do
   * here (old row versions are VACUUM's, see SECURITY.md).
   */
  scrubRemovedContent(waitMs?: number): Promise<void>;
  /** Runs a trivial query: true when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** SQLite: how long a writer waits for the lock before failing (ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. */
  poolSize?: number;
  /** SQLite: how often new messages are added to the search index (ms; a search adds them first anyway). */
  searchIndexIntervalMs?: number;
}

export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const provider = providerOf(url);
  let prisma: PrismaClient;
  let messages: MessageStore;
  let search: MessageSearch;
  let stopBackgroundWork: () => Promise<void> = () => Promise.resolve();
  let scrub: () => Promise<void> = () => Promise.resolve();
  if (provider === "sqlite") {
    const adapter = new SharedConnectionSqliteAdapter({ url: sqlitePath(url), timeout: options.busyTimeoutMs ?? 10_000 });
    prisma = new SqliteClient({ adapter });
    // WAL lets readers go on while one writer writes; it is stored in the file, and NORMAL sync is
    // the documented safe pairing with WAL (a commit survives a process crash).
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    // Deleted content (a deleted message's text) is overwritten with zeros in the file, not just
    // marked free: deleting a message removes its text from storage.
    await prisma.$queryRawUnsafe("PRAGMA secure_delete = ON");
    // The queries above made Prisma connect.
    messages = sqliteMessageStore(adapter.connection());
    const indexer = startSearchIndexer(adapter.connection(), options.searchIndexIntervalMs);
    search = sqliteMessageSearch(adapter.connection(), () => indexer.indexPending());
    const checkpointer = startCheckpointer(adapter.connection(), sqlitePath(url));
    stopBackgroundWork = async () => {
      await indexer.stop();
      await checkpointer.stop();
    };
    scrub = () => checkpointer.truncate();
  } else {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    const adapter = new PrismaPg(pool, { disposeExternalPool: true });
    // Same models, same delegates: only the generated provider differs.
    prisma = new PostgresClient({ adapter }) as unknown as PrismaClient;
    messages = postgresMessageStore(pool);
    search = postgresMessageSearch(pool);
  }
  return {
    provider,
    prisma,
    messages,
    search,
    events: eventLog(prisma, provider),
    async scrubRemovedContent(waitMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
      try {
        await Promise.race([scrub(), gaveUp]);
      } finally {
        clearTimeout(timer);
      }
    },
    async ping() {
      try {
        await prisma.$queryRawUnsafe("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await stopBackgroundWork();
      await prisma.$disconnect();
    },
  };
}

/**
 * Prisma's better-sqlite3 adapter, also handing out the connection it opened, so that the message
 * store uses the same one: a second connection to the file would wait synchronously (blocking the
 * event loop) for a write lock held by the first. The adapter keeps the connection in its `client`
 * field (checked by test/message-store.test.ts against the pinned adapter version).
 */
class SharedConnectionSqliteAdapter extends PrismaBetterSQLite3 {
  private client: BetterSqlite3.Database | null = null;

  override async connect(): Promise<Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>> {
    const adapter = await super.connect();
    const client = (adapter as unknown as { client?: unknown }).client;
    if (!isBetterSqlite3(client)) throw new Error("@prisma/adapter-better-sqlite3 no longer keeps its connection in `client`");
    this.client = client;
    return adapter;
  }

  connection(): BetterSqlite3.Database {
    if (!this.client) throw new Error("the SQLite adapter has not connected yet");
    return this.client;
  }
}

function isBetterSqlite3(value: unknown): value is BetterSqlite3.Database {
  return typeof value === "object" && value !== null && "prepare" in value && "transaction" in value && "inTransaction" in value;
}
