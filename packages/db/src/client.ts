import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as SqliteClient } from "../generated/sqlite/client.js";
import { PrismaClient as PostgresClient } from "../generated/postgresql/client.js";
import { providerOf, sqlitePath, type Provider } from "./provider.js";

/**
 * The Prisma client the rest of Parley uses. Both providers' clients are generated from the same
 * models (prisma/models.prisma), so they have the same model API; the SQLite one names the type.
 */
export type Db = SqliteClient;

export interface Database {
  readonly provider: Provider;
  readonly prisma: Db;
  /** Runs a trivial query: true when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** SQLite: how long a writer waits for the lock before failing (ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool. */
  poolSize?: number;
}

export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const provider = providerOf(url);
  let prisma: Db;
  if (provider === "sqlite") {
    const adapter = new PrismaBetterSQLite3({ url: sqlitePath(url), timeout: options.busyTimeoutMs ?? 10_000 });
    prisma = new SqliteClient({ adapter });
    // WAL lets readers go on while one writer writes; it is stored in the file, and NORMAL sync is
    // the documented safe pairing with WAL (a commit survives a process crash).
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
  } else {
    const adapter = new PrismaPg({ connectionString: url, max: options.poolSize ?? 10 });
    // Same models, same delegates: only the generated provider differs.
    prisma = new PostgresClient({ adapter }) as unknown as Db;
  }
  return {
    provider,
    prisma,
    async ping() {
      try {
        await prisma.$queryRawUnsafe("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    close: () => prisma.$disconnect(),
  };
}
