// The data directory holds password hashes (parley.db) and the JWT secret: only the server's own
// user may read them. New files are created private; looser ones found at start-up are tightened,
// with a warning, since an operator who shared them did so by accident more likely than on purpose.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** Makes DATA_DIR 0700, its jwt-secret and a SQLite database (with its -wal and -shm) 0600; returns warnings for the log. */
export function secureDataFiles(dataDir: string, databaseUrl: string): string[] {
  const warnings: string[] = [];
  const tighten = (path: string, mode: number) => {
    if (!existsSync(path)) return;
    const current = statSync(path).mode & 0o777;
    if ((current & ~mode) === 0) return;
    chmodSync(path, mode);
    warnings.push(`${path} was readable by others (mode ${current.toString(8)}): changed to ${mode.toString(8)}`);
  };
  const database = databaseUrl.startsWith("file:") ? resolve(databaseUrl.slice("file:".length)) : null;
  // DATA_DIR is tightened when Parley keeps something in it; a database elsewhere keeps its folder as is.
  const usesDataDir = database !== null && dirname(database) === resolve(dataDir);
  if (usesDataDir) mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const secret = join(dataDir, "jwt-secret");
  if (usesDataDir || existsSync(secret)) tighten(dataDir, PRIVATE_DIR);
  // Whoever can read the secret can sign tokens for anyone.
  tighten(secret, PRIVATE_FILE);
  if (database === null) return warnings;
  // SQLite gives -wal and -shm the mode of the database file, so creating it private covers them.
  if (!existsSync(database) && existsSync(dirname(database))) closeSync(openSync(database, "a", PRIVATE_FILE));
  for (const path of [database, `${database}-wal`, `${database}-shm`]) tighten(path, PRIVATE_FILE);
  return warnings;
}
