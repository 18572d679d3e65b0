// The outbox of one user in this browser: IndexedDB, shared by the user's tabs. Each tab holds a Web
// Lock named after itself for as long as it lives; an entry saved by a tab whose lock is free was
// left by a closed tab (or a reloaded page), and is claimed - under a second lock, so by one tab
// only - by the next tab that looks. Where Web Locks are missing (an insecure origin), a tab claims
// every entry not its own; the server's idempotency on (sender, clientMessageId) keeps even that
// from storing a message twice.
import type { StoredEntry } from "./outbox";
import type { OutboxStorage } from "./outbox-storage";
import { committed, openSingleStoreDb, request } from "../indexed-db";

const DB_NAME = "parley.outbox";
const STORE = "entries";

interface Row extends StoredEntry {
  userId: string;
  /** The client (tab) that sends it. */
  owner: string;
  /** Keeps the order in which they were written. */
  order: number;
}

function isRow(value: unknown): value is Row {
  if (typeof value !== "object" || value === null) return false;
  const row = value as Record<string, unknown>;
  return ["userId", "owner", "clientMessageId", "conversationId", "senderId", "content", "createdAt"].every((k) => typeof row[k] === "string");
}

export interface BrowserOutboxOptions {
  indexedDB?: IDBFactory;
  locks?: LockManager;
}

export function browserOutboxStorage(userId: string, options: BrowserOutboxOptions = {}): OutboxStorage {
  const factory = options.indexedDB ?? indexedDB;
  const locks = options.locks ?? (typeof navigator !== "undefined" ? navigator.locks : undefined);
  const owner = crypto.randomUUID();
  const tabLock = (id: string) => `parley.outbox.tab.${id}`;
  // Held until this page goes away: while it is, no other tab takes this one's entries.
  if (locks) void locks.request(tabLock(owner), () => new Promise<void>(() => undefined));

  let opened: Promise<IDBDatabase> | null = null;
  const db = () => (opened ??= openSingleStoreDb(factory, DB_NAME, STORE));
  const key = (clientMessageId: string) => `${userId}:${clientMessageId}`;
  const ownRange = () => IDBKeyRange.bound(`${userId}:`, `${userId}:\uffff`);
  let written = 0;

  const claimHoldingLock = async (): Promise<StoredEntry[]> => {
    const alive = locks ? new Set(((await locks.query()).held ?? []).map((lock) => lock.name)) : new Set<string>();
    const tx = (await db()).transaction(STORE, "readwrite", { durability: "strict" });
    const store = tx.objectStore(STORE);
    const rows = (await request(store.getAll(ownRange()))).filter(isRow);
    const orphans = rows.filter((row) => row.owner !== owner && !alive.has(tabLock(row.owner))).sort((a, b) => a.order - b.order);
    for (const row of orphans) store.put({ ...row, owner }, key(row.clientMessageId));
    await committed(tx);
    return orphans.map(({ clientMessageId, conversationId, threadId, senderId, content, attachments, createdAt, error }) => ({
      clientMessageId,
      conversationId,
      ...(typeof threadId === "string" ? { threadId } : {}),
      senderId,
      content,
      ...(Array.isArray(attachments) && attachments.length > 0 ? { attachments } : {}),
      createdAt,
      error: typeof error === "string" ? error : null,
    }));
  };

  return {
    claim: () => (locks ? locks.request(`parley.outbox.claim.${userId}`, claimHoldingLock) : claimHoldingLock()),
    async save(entry) {
      const tx = (await db()).transaction(STORE, "readwrite", { durability: "strict" });
      const store = tx.objectStore(STORE);
      const existing: unknown = await request(store.get(key(entry.clientMessageId)));
      written += 1;
      const order = isRow(existing) ? existing.order : Date.now() * 1000 + (written % 1000);
      store.put({ ...entry, userId, owner, order } satisfies Row, key(entry.clientMessageId));
      await committed(tx);
    },
    async remove(clientMessageId) {
      const tx = (await db()).transaction(STORE, "readwrite", { durability: "strict" });
      tx.objectStore(STORE).delete(key(clientMessageId));
      await committed(tx);
    },
    async clear() {
      const tx = (await db()).transaction(STORE, "readwrite", { durability: "strict" });
      tx.objectStore(STORE).delete(ownRange());
      await committed(tx);
    },
  };
}
