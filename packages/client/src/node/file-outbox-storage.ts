// The outbox in a JSON file, for a bot or a script that must not lose what it was sending when it
// restarts. One process uses a file at a time: entries left by an earlier run are claimed whole.
import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { StoredEntry } from "../chat/outbox";
import type { OutboxStorage } from "../chat/outbox-storage";

interface FileRow extends StoredEntry {
  owner: string;
}

function isRow(value: unknown): value is FileRow {
  if (typeof value !== "object" || value === null) return false;
  const row = value as Record<string, unknown>;
  const texts = ["owner", "clientMessageId", "conversationId", "senderId", "content", "createdAt"].every((k) => typeof row[k] === "string");
  return texts && (row.error === null || typeof row.error === "string");
}

export function fileOutboxStorage(path: string): OutboxStorage {
  const owner = randomUUID();
  let rows: FileRow[] | null = null;
  // One change at a time, each written whole to a new file and renamed over the old one, so a crash
  // mid-write leaves the previous state rather than half a file.
  let queue: Promise<unknown> = Promise.resolve();

  const load = async (): Promise<FileRow[]> => {
    if (rows) return rows;
    try {
      const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
      rows = Array.isArray(parsed) ? parsed.filter(isRow) : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      rows = [];
    }
    return rows;
  };
  const change = <T>(fn: (current: FileRow[]) => { next: FileRow[]; result: T }): Promise<T> => {
    const run = queue.then(async () => {
      const { next, result } = fn(await load());
      const temporary = `${path}.${owner}.tmp`;
      await writeFile(temporary, JSON.stringify(next), { mode: 0o600 });
      await rename(temporary, path);
      rows = next;
      return result;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    claim: () =>
      change((current) => {
        const claimed = current.filter((row) => row.owner !== owner);
        return {
          next: current.map((row) => ({ ...row, owner })),
          result: claimed.map(({ owner: _owner, ...entry }) => entry),
        };
      }),
    save: (entry) =>
      change((current) => {
        const index = current.findIndex((row) => row.clientMessageId === entry.clientMessageId);
        const row = { ...entry, owner };
        return { next: index < 0 ? [...current, row] : current.map((r, i) => (i === index ? row : r)), result: undefined };
      }),
    remove: (clientMessageId) => change((current) => ({ next: current.filter((row) => row.clientMessageId !== clientMessageId), result: undefined })),
    clear: () => change(() => ({ next: [], result: undefined })),
  };
}
