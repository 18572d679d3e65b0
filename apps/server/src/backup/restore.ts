// `parley restore <file>`: a backup brought back into an empty DATA_DIR, all or nothing.
//
// Everything is unpacked into a folder inside DATA_DIR and checked there - every header, every
// entry against SHA256SUMS, the database against SQLite's integrity check - then migrated and
// marked as restored (db.events.markRestored: the log moves on, so no event id handed out after
// the backup is reused, and clients holding older positions are told to resync), and only then
// moved into place. A refused or failed restore leaves DATA_DIR as it found it.
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, open, readdir, rename, rm, rmdir, utimes, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { migrate, openDatabase, providerOf, sqlitePath } from "@parley/db";
import type { StoragePaths } from "../config.js";
import { BackupError, readArchive, type EntrySink } from "./archive.js";
import { CHECKSUMS, DATABASE, FILES_PREFIX, isBackupEntry, JWT_SECRET, MANIFEST, parseChecksums, parseManifest, type Manifest } from "./format.js";

export interface RestoreSummary {
  manifest: Manifest;
  files: number;
  jwtSecret: boolean;
  /** Where the restored log continues: every position before it is refused (clients reload). */
  restoredAtId: bigint;
}

export async function restoreBackup(paths: StoragePaths, file: string): Promise<RestoreSummary> {
  if (providerOf(paths.databaseUrl) !== "sqlite") {
    throw new BackupError("DATABASE_URL names PostgreSQL: restore the dump with pg_restore, then run `parley mark-restored` (README, Backup and restore)");
  }
  const databasePath = sqlitePath(paths.databaseUrl);
  const backup = await open(file, "r").catch(() => {
    throw new BackupError(`cannot read ${file}`);
  });
  try {
    await assertEmpty(paths.dataDir, "DATA_DIR");
    await assertEmpty(paths.filesDir, "FILES_DIR");
    for (const path of [databasePath, `${databasePath}-wal`, `${databasePath}-shm`]) {
      if (existsSync(path)) throw new BackupError(`${path} already exists: restore only where there is no database, so that nothing is overwritten`);
    }
    const createdDataDir = await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
    const staging = await mkdtemp(join(paths.dataDir, ".restore-"));
    try {
      const unpacked = await unpack(backup, staging);
      const restoredAtId = await prepareDatabase(join(staging, DATABASE));
      await moveIntoPlace(join(staging, DATABASE), databasePath);
      if (existsSync(join(staging, "files"))) await moveIntoPlace(join(staging, "files"), paths.filesDir);
      if (unpacked.jwtSecret) await moveIntoPlace(join(staging, JWT_SECRET), paths.jwtSecretFile);
      await rm(staging, { recursive: true, force: true });
      return { ...unpacked, restoredAtId };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (createdDataDir !== undefined) await rm(createdDataDir, { recursive: true, force: true });
      throw error;
    }
  } finally {
    await backup.close();
  }
}

/** A folder that does not exist or holds nothing. */
async function assertEmpty(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR") throw new BackupError(`${name} (${dir}) is a file, not a folder`);
    throw error;
  }
  if (entries.length > 0) {
    const shown = entries.slice(0, 5).join(", ") + (entries.length > 5 ? ", ..." : "");
    throw new BackupError(`${name} (${dir}) is not empty (${shown}): restore only into an empty folder, so that nothing is overwritten`);
  }
}

/** Unpacks and checks the archive into `staging`; throws a BackupError on anything amiss. */
async function unpack(backup: FileHandle, staging: string): Promise<{ manifest: Manifest; files: number; jwtSecret: boolean }> {
  let manifest: Manifest | null = null;
  let checksums: Map<string, string> | null = null;
  const seen = new Set<string>();
  await mkdir(join(staging, "files"), { mode: 0o700 });
  const entries = await readArchive(backup, async (entry) => {
    if (checksums) throw new BackupError(`the backup file is corrupt: ${entry.name} after ${CHECKSUMS}`);
    if (seen.size === 0 && entry.name !== MANIFEST) throw new BackupError("not a Parley backup (it does not begin with its manifest)");
    if (!isBackupEntry(entry.name)) throw new BackupError(`the backup file holds ${JSON.stringify(entry.name)}, which no Parley backup holds`);
    if (seen.has(entry.name)) throw new BackupError(`the backup file holds ${entry.name} twice`);
    seen.add(entry.name);
    if (entry.name === MANIFEST || entry.name === CHECKSUMS) {
      return inMemory((bytes) => {
        if (entry.name === MANIFEST) manifest = parseManifest(bytes);
        else checksums = parseChecksums(bytes);
      });
    }
    const path = join(staging, entry.name.startsWith(FILES_PREFIX) ? join("files", entry.name.slice(FILES_PREFIX.length)) : entry.name);
    const handle = await open(path, "wx", 0o600);
    return {
      write: async (chunk) => void (await handle.write(chunk)),
      close: async () => {
        await handle.close();
        await utimes(path, entry.mtime, entry.mtime);
      },
    };
  });
  // Narrowed by hand: the callbacks above assign them, which flow analysis does not follow.
  const sums = checksums as Map<string, string> | null;
  const found = manifest as Manifest | null;
  if (!sums || !found) throw new BackupError(`the backup file is incomplete: it has no ${CHECKSUMS} (truncated?)`);
  const listed = new Set(sums.keys());
  for (const entry of entries) {
    if (entry.name === CHECKSUMS) continue;
    if (sums.get(entry.name) !== entry.sha256) throw new BackupError(`the backup file is corrupt: ${entry.name} does not match its checksum`);
    listed.delete(entry.name);
  }
  if (listed.size > 0) throw new BackupError(`the backup file is incomplete: ${[...listed][0]} is missing`);
  if (!seen.has(DATABASE)) throw new BackupError(`the backup file is incomplete: it has no ${DATABASE}`);
  return { manifest: found, files: entries.filter((e) => e.name.startsWith(FILES_PREFIX)).length, jwtSecret: seen.has(JWT_SECRET) };
}

function inMemory(done: (bytes: Buffer) => void): EntrySink {
  const chunks: Buffer[] = [];
  return {
    write: async (chunk) => void chunks.push(Buffer.from(chunk)),
    close: async () => done(Buffer.concat(chunks)),
  };
}

/** Checks the unpacked database, brings its schema up to this build's and marks the restore in its log. */
async function prepareDatabase(path: string): Promise<bigint> {
  const check = new Database(path, { fileMustExist: true });
  try {
    const result = check.pragma("integrity_check", { simple: true });
    if (result !== "ok") throw new BackupError(`the backup's database fails SQLite's integrity check (${String(result)})`);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`the backup's database cannot be read (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    check.close();
  }
  const url = `file:${path}`;
  await migrate(url).catch((error: unknown) => {
    // A backup made by a newer Parley, say: a restore into this build cannot go on.
    throw new BackupError(`cannot bring the backup's database to this build's schema (${error instanceof Error ? error.message : String(error)})`);
  });
  const db = await openDatabase(url);
  let restoredAtId: bigint;
  try {
    restoredAtId = (await db.events.markRestored()).restoredAtId;
  } finally {
    await db.close();
  }
  // Folds the WAL into the file, so that the database is the one file moved into place.
  const settle = new Database(path, { fileMustExist: true });
  try {
    settle.pragma("journal_mode = DELETE");
  } finally {
    settle.close();
  }
  return restoredAtId;
}

/** Renames `from` to `to` (an empty `to` folder, as assertEmpty found it, is replaced), copying across file systems. */
async function moveIntoPlace(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  // rmdir refuses a folder that is not empty: nothing put there meanwhile is lost.
  if (existsSync(to)) await rmdir(to);
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    await cp(from, to, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
  }
}
