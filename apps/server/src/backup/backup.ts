// `parley backup <file>`: one file holding a running SQLite deployment - the database, the generated
// JWT secret and the uploaded files - taken without stopping it.
//
// Order: the database first (SQLite's online backup, in one step, so the copy is one consistent
// snapshot while the server goes on writing), then the files. A file uploaded after the snapshot is
// in the backup but named by no row of it: harmless, and the file sweep removes it after the
// unattached-upload TTL. A file the snapshot names but that was removed before the walk reached it (its
// message was deleted, or its upload expired, after the snapshot) is counted and reported.
import { existsSync } from "node:fs";
import { link, mkdtemp, open, rm, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { isUnfinishedWrite, LocalFileStore } from "@parley/api";
import { providerOf, sqlitePath } from "@parley/db";
import type { StoragePaths } from "../config.js";
import { ArchiveWriter, BackupError } from "./archive.js";
import { CHECKSUMS, checksumsOf, DATABASE, FILES_PREFIX, JWT_SECRET, MANIFEST, manifestOf } from "./format.js";

/** Every remaining page in one step of SQLite's backup: one read transaction, so the copy cannot restart under writes. */
const ALL_PAGES = 0x7fffffff;

export interface BackupSummary {
  file: string;
  /** The backup point: the newest event in the copy. */
  latestEventId: bigint;
  messages: number;
  files: number;
  bytes: number;
  jwtSecret: "included" | "set in the environment" | "none";
  /** Files the copy names that were removed before they could be copied. */
  removedMeanwhile: number;
}

export async function createBackup(paths: StoragePaths, file: string): Promise<BackupSummary> {
  if (providerOf(paths.databaseUrl) !== "sqlite") {
    throw new BackupError("DATABASE_URL names PostgreSQL: back it up with pg_dump and copy FILES_DIR after it (README, Backup and restore)");
  }
  const databasePath = sqlitePath(paths.databaseUrl);
  if (!existsSync(databasePath)) throw new BackupError(`there is no database at ${databasePath} (check DATA_DIR and DATABASE_URL)`);
  if (existsSync(file)) throw new BackupError(`${file} already exists: a backup never overwrites a file, choose another name`);
  if (!existsSync(dirname(file))) throw new BackupError(`the folder ${dirname(file)} does not exist`);

  // Everything is written beside the target and linked into place at the end: a failed or
  // interrupted backup leaves no file that looks like a backup.
  const work = await mkdtemp(join(dirname(file), `.${basename(file)}.partial-`));
  try {
    const copyPath = join(work, DATABASE);
    const snapshot = await copyDatabase(databasePath, copyPath);
    const archivePath = join(work, "backup.tar");
    const out = await open(archivePath, "wx", 0o600);
    const writer = new ArchiveWriter(out);
    let files = 0;
    let jwtSecret: BackupSummary["jwtSecret"] = "none";
    try {
      await writer.addBytes(MANIFEST, manifestOf({ createdAt: new Date().toISOString(), latestEventId: snapshot.latestEventId.toString(), messages: snapshot.messages }));
      const copied = await stat(copyPath);
      await writer.addFile(DATABASE, copyPath, copied.size, copied.mtime);
      if (paths.jwtSecretFromEnv) jwtSecret = "set in the environment";
      else if (existsSync(paths.jwtSecretFile)) {
        const secret = await stat(paths.jwtSecretFile);
        await writer.addFile(JWT_SECRET, paths.jwtSecretFile, secret.size, secret.mtime);
        jwtSecret = "included";
      }
      const archived = new Set<string>();
      for await (const { key, modifiedAt } of new LocalFileStore(paths.filesDir).list()) {
        if (isUnfinishedWrite(key)) continue;
        const size = await stat(join(paths.filesDir, key)).then(
          (s) => s.size,
          () => null,
        );
        // Removed since it was listed (a deleted message's file, a swept upload).
        if (size === null) continue;
        await writer.addFile(`${FILES_PREFIX}${key}`, join(paths.filesDir, key), size, modifiedAt);
        archived.add(key);
        files += 1;
      }
      const removedMeanwhile = snapshot.storageKeys.filter((key) => !archived.has(key)).length;
      await writer.addBytes(CHECKSUMS, checksumsOf(writer.entries));
      await writer.finish();
      await out.sync();
      await out.close();
      // link, not rename: fails instead of replacing a file that appeared meanwhile.
      await link(archivePath, file);
      await unlink(archivePath);
      const { size: bytes } = await stat(file);
      return { file, latestEventId: snapshot.latestEventId, messages: snapshot.messages, files, bytes, jwtSecret, removedMeanwhile };
    } finally {
      await out.close().catch(() => undefined);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface Snapshot {
  latestEventId: bigint;
  messages: number;
  /** The storage keys of its attachments. */
  storageKeys: string[];
}

/** SQLite's online backup of the live database into `target`, checked and made one self-contained file. */
async function copyDatabase(source: string, target: string): Promise<Snapshot> {
  const live = new Database(source, { fileMustExist: true });
  try {
    live.pragma("busy_timeout = 10000");
    await live.backup(target, { progress: () => ALL_PAGES });
  } finally {
    live.close();
  }
  const copy = new Database(target);
  try {
    const check = copy.pragma("integrity_check", { simple: true });
    if (check !== "ok") throw new BackupError(`the database copy failed SQLite's integrity check (${String(check)}): the live database may be damaged`);
    // No -wal file beside it: the copy is the whole database.
    copy.pragma("journal_mode = DELETE");
    const latest = copy.prepare<[], { id: bigint }>(`SELECT "id" FROM "Event" ORDER BY "id" DESC LIMIT 1`).safeIntegers().get();
    const messages = copy.prepare<[], { n: number }>(`SELECT COUNT(*) AS "n" FROM "Message"`).get();
    const attachments = copy.prepare<[], { storageKey: string }>(`SELECT "storageKey" FROM "Attachment"`).all();
    return {
      latestEventId: latest?.id ?? 0n,
      messages: messages?.n ?? 0,
      storageKeys: attachments.map((a) => a.storageKey),
    };
  } finally {
    copy.close();
  }
}
