// Where uploaded bytes live. Parley asks a FileStore for four things only, so that a store other than
// a local folder (an S3-compatible bucket) is one more implementation of this interface. Keys are
// ids Parley generates (never a name a person gave); a key's variants add a suffix after a dot
// (`<key>.thumb`).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface StoredFileEntry {
  key: string;
  modifiedAt: Date;
}

export interface FileStore {
  /**
   * Writes `content` under `key`, replacing what was there only once all of it is written: a
   * reader never sees a partial file, and a failed or aborted write leaves nothing under the key.
   */
  put(key: string, content: Readable): Promise<void>;
  /** A stream of the file and its size, or null when there is none. */
  open(key: string): Promise<{ stream: Readable; size: number } | null>;
  /** Removes the file; nothing happens when there is none. */
  delete(key: string): Promise<void>;
  /** Every file the store holds (unfinished writes included), for the sweep of files no row names. */
  list(): AsyncIterable<StoredFileEntry>;
}

/** Generated keys and their variants: lower-case letters, digits and dots, never a path. */
const KEY = /^[a-z0-9]+(\.[a-z0-9-]+)*$/;

function checked(key: string): string {
  if (!KEY.test(key)) throw new Error(`not a file store key: ${JSON.stringify(key)}`);
  return key;
}

/** Whether a name is one the store could hold (a key or a key's variant): restore accepts nothing else. */
export function isStoredName(name: string): boolean {
  return KEY.test(name);
}

/** An unfinished write (`<key>.part-<random>`, see LocalFileStore.put): not a stored file (yet). */
export function isUnfinishedWrite(storedName: string): boolean {
  return /\.part-[a-z0-9]+$/.test(storedName);
}

/** The part of a stored name that identifies its upload: `<key>` of `<key>.thumb` or of an unfinished `<key>.part-…`. */
export function uploadKeyOf(storedName: string): string {
  return storedName.split(".")[0] ?? storedName;
}

/**
 * A folder on the local disk (by default DATA_DIR/files). Several instances share files by pointing
 * at one folder (a network file system that supports atomic rename). Writes go to `<key>.part-<random>`
 * beside the target and are renamed into place when complete.
 */
export class LocalFileStore implements FileStore {
  private ready: Promise<unknown> | null = null;

  constructor(readonly dir: string) {}

  private ensureDir(): Promise<unknown> {
    // Private like the rest of DATA_DIR: uploads are as confidential as the messages they belong to.
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    return this.ready;
  }

  async put(key: string, content: Readable): Promise<void> {
    await this.ensureDir();
    const target = join(this.dir, checked(key));
    const partial = `${target}.part-${randomBytes(6).toString("hex")}`;
    try {
      await pipeline(content, createWriteStream(partial, { flags: "wx", mode: 0o600 }));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async open(key: string): Promise<{ stream: Readable; size: number } | null> {
    const path = join(this.dir, checked(key));
    try {
      const { size } = await stat(path);
      return { stream: createReadStream(path), size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.dir, checked(key)), { force: true });
  }

  async *list(): AsyncIterable<StoredFileEntry> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const name of names) {
      if (!KEY.test(name)) continue;
      try {
        const { mtime, isFile } = await stat(join(this.dir, name)).then((s) => ({ mtime: s.mtime, isFile: s.isFile() }));
        if (isFile) yield { key: name, modifiedAt: mtime };
      } catch (error) {
        // Removed meanwhile (by another instance's sweep, or a finished write's rename).
        if (!isMissing(error)) throw error;
      }
    }
  }
}

function isMissing(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";
}

/** For services built without a store (API tests that do not upload): every write fails, nothing is listed. */
export const noFileStore: FileStore = {
  put: () => Promise.reject(new Error("this server has no file store")),
  open: () => Promise.resolve(null),
  delete: () => Promise.resolve(),
  async *list() {},
};
