// The backup file: a POSIX tar archive (ustar) of regular files only, written and read here so that
// `tar tf` and `tar xf` work on it by hand, while restore checks every header and, against the
// SHA256SUMS entry written last, every byte. The archive is written and read sequentially through
// one file handle: no memory grows with the size of a file in it.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";

const BLOCK = 512;
/** The largest size the 11 octal digits of a ustar header hold; larger ones use the base-256 form GNU tar reads. */
const OCTAL_SIZE_LIMIT = 8 ** 11;

/** A problem with the backup itself or with where it goes, told to the operator as is. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

export interface ArchivedEntry {
  name: string;
  size: number;
  sha256: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, mode: number, mtime: Date): Buffer {
  const block = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new BackupError(`cannot archive ${name}: names are at most 100 bytes`);
  block.write(name, 0, "utf8");
  block.write(octal(mode & 0o7777, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  if (size < OCTAL_SIZE_LIMIT) block.write(octal(size, 12), 124, "ascii");
  else {
    block[124] = 0x80;
    block.writeBigUInt64BE(BigInt(size), 128);
  }
  block.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, "ascii");
  block.write("0", 156, "ascii");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  // The checksum is summed with its own field as spaces.
  block.fill(0x20, 148, 156);
  block.write(`${octal(checksumOf(block), 7)} `, 148, "ascii");
  return block;
}

function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Appends entries to an archive file; `finish()` writes the end-of-archive blocks. */
export class ArchiveWriter {
  private readonly written: ArchivedEntry[] = [];

  constructor(private readonly out: FileHandle) {}

  get entries(): readonly ArchivedEntry[] {
    return this.written;
  }

  async addBytes(name: string, content: Buffer, mtime = new Date()): Promise<ArchivedEntry> {
    await this.out.write(header(name, content.length, 0o600, mtime));
    await this.out.write(content);
    await this.out.write(Buffer.alloc(padding(content.length)));
    return this.record(name, content.length, createHash("sha256").update(content).digest("hex"));
  }

  /**
   * Appends the file at `path` as `name`, `size` bytes as stat()ed just before. The file must not
   * change meanwhile (Parley's stored files never do; the database is a private copy).
   */
  async addFile(name: string, path: string, size: number, mtime: Date): Promise<ArchivedEntry> {
    await this.out.write(header(name, size, 0o600, mtime));
    const hash = createHash("sha256");
    let copied = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      copied += chunk.length;
      if (copied > size) break;
      hash.update(chunk);
      await this.out.write(chunk);
    }
    if (copied !== size) throw new BackupError(`${path} changed while it was being copied`);
    await this.out.write(Buffer.alloc(padding(size)));
    return this.record(name, size, hash.digest("hex"));
  }

  async finish(): Promise<void> {
    await this.out.write(Buffer.alloc(2 * BLOCK));
  }

  private record(name: string, size: number, sha256: string): ArchivedEntry {
    const entry = { name, size, sha256 };
    this.written.push(entry);
    return entry;
  }
}

export interface EntryHeader {
  name: string;
  size: number;
  mtime: Date;
}

/** Where the bytes of one entry go, as `readArchive`'s sink opens it for the entry's header. */
export interface EntrySink {
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads the archive from the start, hands each entry's bytes to the sink `open` returns for it, and
 * returns every entry with the SHA-256 of what was read. Every header's checksum is checked; an
 * archive that ends early, holds anything but regular files, or goes on after its end is refused
 * with a BackupError.
 */
export async function readArchive(
  input: FileHandle,
  open: (entry: EntryHeader) => Promise<EntrySink>,
): Promise<ArchivedEntry[]> {
  const { size: total } = await input.stat();
  let position = 0;
  const read = async (length: number): Promise<Buffer> => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await input.read(buffer, 0, length, position);
    if (bytesRead < length) throw new BackupError("the backup file ends early: it is truncated (was it copied completely?)");
    position += length;
    return buffer;
  };
  const entries: ArchivedEntry[] = [];
  for (;;) {
    const block = await read(BLOCK);
    if (block.every((byte) => byte === 0)) {
      const second = await read(BLOCK);
      if (!second.every((byte) => byte === 0)) throw new BackupError("the backup file is corrupt: a damaged header");
      // Writers may pad the archive to a record size with zeros; anything else after the end is not ours.
      while (position < total) {
        const rest = await read(Math.min(total - position, 1024 * 1024));
        if (!rest.every((byte) => byte === 0)) throw new BackupError("the backup file is corrupt: data after the end of the archive");
      }
      return entries;
    }
    const entry = parseHeader(block);
    const out = await open(entry);
    const hash = createHash("sha256");
    try {
      for (let left = entry.size; left > 0; ) {
        const chunk = await read(Math.min(left, 1024 * 1024));
        hash.update(chunk);
        await out.write(chunk);
        left -= chunk.length;
      }
    } catch (error) {
      // What the sink makes of a part of an entry does not matter: the reason it is a part does.
      await out.close().catch(() => undefined);
      throw error;
    }
    await out.close();
    await read(padding(entry.size));
    entries.push({ name: entry.name, size: entry.size, sha256: hash.digest("hex") });
  }
}

function parseHeader(block: Buffer): EntryHeader {
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === null || stored !== checksumOf(block) || block.toString("ascii", 257, 262) !== "ustar") {
    throw new BackupError("the backup file is corrupt: a damaged header (or it is not a Parley backup)");
  }
  const type = block.toString("ascii", 156, 157);
  const name = block.toString("utf8", 0, 100).replace(/\0.*$/s, "");
  if (type !== "0" && type !== "\0") throw new BackupError(`the backup file holds ${JSON.stringify(name)}, which is not a regular file: not a Parley backup`);
  const size = block[124] === 0x80 ? Number(block.readBigUInt64BE(128)) : parseOctal(block.subarray(124, 136));
  const mtime = parseOctal(block.subarray(136, 148));
  if (size === null || mtime === null) throw new BackupError("the backup file is corrupt: a damaged header");
  return { name, size, mtime: new Date(mtime * 1000) };
}

function parseOctal(field: Buffer): number | null {
  const text = field.toString("ascii").replace(/[\0 ]+$/, "").trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}
