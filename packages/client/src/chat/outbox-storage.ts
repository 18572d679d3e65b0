// Where unsent messages are kept, so that one typed offline survives a reload, a closed tab or a
// restarted script and is sent once - with the same clientMessageId - when the connection is back.
// IndexedDB in a browser (browser-outbox-storage.ts), a JSON file in Node (@parley/client/node),
// memory where nothing must outlive the process.
//
// Several clients of one user may share a storage (a browser's tabs). Each entry belongs to the
// client that saved it; `claim` hands a client the entries whose owner is gone, so that two running
// tabs never both send the same one.
import { toStored, type Outbox, type StoredEntry } from "./outbox";

export interface OutboxStorage {
  /** Takes over the entries no running client is sending (a closed tab's, an earlier run's), oldest first. */
  claim(): Promise<StoredEntry[]>;
  /** Saves a new entry, or an entry's new state; resolves once it would survive a reload. */
  save(entry: StoredEntry): Promise<void>;
  remove(clientMessageId: string): Promise<void>;
  /** Forgets every entry of this user, any client's (sign-out). */
  clear(): Promise<void>;
}

/** A storage for one process: entries saved here are its own; nothing else is kept. */
export function memoryOutboxStorage(): OutboxStorage {
  const entries = new Map<string, StoredEntry>();
  return {
    claim: async () => [],
    save: async (entry) => void entries.set(entry.clientMessageId, { ...entry }),
    remove: async (clientMessageId) => void entries.delete(clientMessageId),
    clear: async () => entries.clear(),
  };
}

/**
 * Keeps `storage` in step with the outbox as it changes: saves new entries and changed failures,
 * removes sent and discarded ones. Returns the function that stops.
 */
export function mirrorOutbox(outbox: { current(): Outbox; subscribe(listener: () => void): () => void }, storage: OutboxStorage): () => void {
  // Per saved entry, the error saved with it.
  let saved = new Map<string, string | null>();
  // A storage that fails (quota, a private mode) costs durability only; the outbox works on.
  const quietly = (write: Promise<void>) => void write.catch(() => undefined);
  const sync = () => {
    const next = new Map<string, string | null>();
    for (const entry of outbox.current()) {
      if (entry.status === "sent") continue;
      const stored = toStored(entry);
      next.set(stored.clientMessageId, stored.error);
      if (!saved.has(stored.clientMessageId) || saved.get(stored.clientMessageId) !== stored.error) quietly(storage.save(stored));
    }
    for (const clientMessageId of saved.keys()) if (!next.has(clientMessageId)) quietly(storage.remove(clientMessageId));
    saved = next;
  };
  sync();
  return outbox.subscribe(sync);
}
