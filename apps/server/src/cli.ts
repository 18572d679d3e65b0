// `pnpm parley <command>` / `node dist/cli.js <command>`: the operator's commands beside the server.
// They read DATA_DIR, DATABASE_URL, FILES_DIR and JWT_SECRET as the server does (config.ts).
import { resolve } from "node:path";
import { migrate, openDatabase } from "@parley/db";
import { ConfigError, loadStoragePaths } from "./config.js";
import { BackupError } from "./backup/archive.js";
import { createBackup } from "./backup/backup.js";
import { restoreBackup } from "./backup/restore.js";

const HELP = `Usage: pnpm parley <command> [file]

Commands:
  backup <file>    Copy a running SQLite deployment into one new file, without stopping it: the
                   database (SQLite's online backup), DATA_DIR/jwt-secret (unless JWT_SECRET is
                   set) and the uploaded files (FILES_DIR). The file is a tar archive.
  restore <file>   Bring a backup back into an empty DATA_DIR (and an empty FILES_DIR, no database
                   file). Checks the whole file first; a refused restore changes nothing.
  mark-restored    After restoring a PostgreSQL dump with pg_restore, before starting any instance:
                   moves the event log past every id the old deployment may have handed out, so
                   clients holding older positions reload instead of missing events.
  help             This text (also --help, -h).

Configuration comes from the environment, as for the server: DATA_DIR (default ./data),
DATABASE_URL (default file:DATA_DIR/parley.db), FILES_DIR (default DATA_DIR/files), JWT_SECRET.
README.md, "Backup and restore", has the whole procedure, for SQLite and PostgreSQL.
`;

type Print = (line: string) => void;

/** Runs one command; returns the process's exit code (0 done, 1 refused or failed, 2 usage). */
async function runCli(args: readonly string[], env: NodeJS.ProcessEnv, out: Print, err: Print): Promise<number> {
  const [command, file, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    out(HELP);
    return command === undefined ? 2 : 0;
  }
  const needsFile = command === "backup" || command === "restore";
  if (!["backup", "restore", "mark-restored"].includes(command) || (needsFile && file === undefined) || (!needsFile && file !== undefined) || rest.length > 0) {
    err(`parley: unknown command or arguments: ${args.join(" ")}\n\n${HELP}`);
    return 2;
  }
  const cwd = env.INIT_CWD ?? process.cwd();
  try {
    const paths = loadStoragePaths(env, cwd);
    if (command === "backup") {
      const summary = await createBackup(paths, resolve(cwd, file ?? ""));
      out(`backup written to ${summary.file} (${summary.bytes} bytes)`);
      out(`  database: ${summary.messages} messages, up to event ${summary.latestEventId}`);
      out(`  files: ${summary.files}`);
      out(`  JWT secret: ${summary.jwtSecret === "set in the environment" ? "not included: JWT_SECRET is set in the environment - keep it with the backup" : summary.jwtSecret}`);
      if (summary.removedMeanwhile > 0) out(`  note: ${summary.removedMeanwhile} attached files were removed while the backup ran (deleted after the database was copied)`);
      out("The file holds every message and the signing key: keep it as private as DATA_DIR.");
    } else if (command === "restore") {
      const summary = await restoreBackup(paths, resolve(cwd, file ?? ""));
      out(`restored the backup of ${summary.manifest.createdAt} into ${paths.dataDir}`);
      out(`  database: ${summary.manifest.messages} messages, up to event ${summary.manifest.latestEventId}; new events follow ${summary.restoredAtId}`);
      out(`  files: ${summary.files}`);
      out(`  JWT secret: ${summary.jwtSecret ? "restored" : "not in the backup - set JWT_SECRET to the deployment's secret, or a new one (everyone logs in again)"}`);
      out("Start the server on it. Clients reload their state once (their positions are from before the restore).");
    } else {
      await migrate(paths.databaseUrl);
      const db = await openDatabase(paths.databaseUrl);
      try {
        const { backupLatestId, restoredAtId } = await db.events.markRestored();
        out(`marked as restored: the log held events up to ${backupLatestId}; new events follow ${restoredAtId}`);
      } finally {
        await db.close();
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof BackupError || error instanceof ConfigError) {
      err(`parley ${command}: ${error.message}`);
      return 1;
    }
    err(`parley ${command} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

process.exitCode = await runCli(
  process.argv.slice(2),
  process.env,
  (line) => process.stdout.write(`${line}\n`),
  (line) => process.stderr.write(`${line}\n`),
);
