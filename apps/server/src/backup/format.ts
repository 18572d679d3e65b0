// What a Parley backup file holds, in this order (archive.ts writes it as tar):
//   parley-backup.json   the manifest: format, version, when, the newest event id of the database copy
//   parley.db            the SQLite database, copied online (a consistent snapshot)
//   jwt-secret           DATA_DIR/jwt-secret, when the deployment uses the generated secret
//   files/<key>          every stored upload (and thumbnail) found after the database was copied
//   SHA256SUMS           the SHA-256 of every entry above, in `sha256sum` format, last
import { isStoredName } from "@parley/api";
import { BackupError, type ArchivedEntry } from "./archive.js";

export const MANIFEST = "parley-backup.json";
export const DATABASE = "parley.db";
export const JWT_SECRET = "jwt-secret";
export const FILES_PREFIX = "files/";
export const CHECKSUMS = "SHA256SUMS";

const FORMAT = "parley-backup";
const VERSION = 1;

export interface Manifest {
  format: typeof FORMAT;
  version: typeof VERSION;
  createdAt: string;
  /** The newest event of the database copy: the backup point. */
  latestEventId: string;
  messages: number;
}

export function manifestOf(fields: Omit<Manifest, "format" | "version">): Buffer {
  const manifest: Manifest = { format: FORMAT, version: VERSION, ...fields };
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

export function parseManifest(bytes: Buffer): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new BackupError(`the backup file is corrupt: ${MANIFEST} is not JSON`);
  }
  const manifest = value as Partial<Manifest> | null;
  if (manifest?.format !== FORMAT) throw new BackupError("not a Parley backup");
  if (manifest.version !== VERSION) throw new BackupError(`this backup is format version ${String(manifest.version)}; this Parley reads version ${VERSION}`);
  return manifest as Manifest;
}

/** `sha256sum` lines, so that an extracted backup can also be checked by hand (`sha256sum -c SHA256SUMS`). */
export function checksumsOf(entries: readonly ArchivedEntry[]): Buffer {
  return Buffer.from(entries.map((e) => `${e.sha256}  ${e.name}\n`).join(""));
}

export function parseChecksums(bytes: Buffer): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of bytes.toString("utf8").split("\n")) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match?.[1] || !match[2]) throw new BackupError(`the backup file is corrupt: ${CHECKSUMS} is damaged`);
    sums.set(match[2], match[1]);
  }
  return sums;
}

/** The entries a backup may hold; anything else is refused before a byte of it is written. */
export function isBackupEntry(name: string): boolean {
  if (name === MANIFEST || name === DATABASE || name === JWT_SECRET || name === CHECKSUMS) return true;
  return name.startsWith(FILES_PREFIX) && isStoredName(name.slice(FILES_PREFIX.length));
}
