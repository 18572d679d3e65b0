// Where the session is kept between page loads, shared by every tab of the browser.
//
// IndexedDB, not localStorage: the refresh must re-read the stored refresh token inside a lock held
// across tabs, and Chromium replicates localStorage to each tab's process asynchronously, so a tab
// that takes the lock just after another tab refreshed can still read the old, already used token
// (measured: 1 stale read in 100 hand-overs; with five tabs it ended a session in two of three
// runs). IndexedDB transactions are ordered in the browser process: a read started after another
// tab's write has committed sees it. localStorage remains the fallback where IndexedDB is missing.

import { committed, openSingleStoreDb, request } from "../indexed-db";

export interface StoredSession {
  refreshToken: string;
  accessToken: string;
  /** Local time the access token was received, for scheduling its refresh. */
  receivedAt: number;
}

export interface SessionStore {
  read(): Promise<StoredSession | null>;
  /** Resolves once the write is durable and visible to every tab. */
  write(session: StoredSession): Promise<void>;
  clear(): Promise<void>;
}

export function parseStoredSession(value: unknown): StoredSession | null {
  if (typeof value !== "object" || value === null) return null;
  const { refreshToken, accessToken, receivedAt } = value as Record<string, unknown>;
  if (typeof refreshToken !== "string" || typeof accessToken !== "string" || typeof receivedAt !== "number") return null;
  return { refreshToken, accessToken, receivedAt };
}

const DB_NAME = "parley";
const STORE = "session";
const KEY = "current";

export async function openIndexedDbStore(factory: IDBFactory): Promise<SessionStore> {
  const db = await openSingleStoreDb(factory, DB_NAME, STORE);
  return {
    async read() {
      const value = await request(db.transaction(STORE, "readonly").objectStore(STORE).get(KEY));
      return parseStoredSession(value);
    },
    async write(session) {
      const tx = db.transaction(STORE, "readwrite", { durability: "strict" });
      tx.objectStore(STORE).put(session, KEY);
      await committed(tx);
    },
    async clear() {
      const tx = db.transaction(STORE, "readwrite", { durability: "strict" });
      tx.objectStore(STORE).delete(KEY);
      await committed(tx);
    },
  };
}

export function localStorageStore(storage: Pick<Storage, "getItem" | "setItem" | "removeItem">, key = "parley.session"): SessionStore {
  return {
    async read() {
      try {
        return parseStoredSession(JSON.parse(storage.getItem(key) ?? "null"));
      } catch {
        return null;
      }
    },
    async write(session) {
      storage.setItem(key, JSON.stringify(session));
    },
    async clear() {
      storage.removeItem(key);
    },
  };
}

/** Kept in memory: a process that logs in at start, or a test. */
export function memorySessionStore(): SessionStore {
  let current: StoredSession | null = null;
  return {
    read: async () => (current ? { ...current } : null),
    write: async (session) => {
      current = { ...session };
    },
    clear: async () => {
      current = null;
    },
  };
}

/**
 * This browser's store: IndexedDB, or localStorage where IndexedDB is refused (private modes of some
 * browsers). Opened on first use, so that the session can be created before it is ready.
 */
export function browserSessionStore(): SessionStore {
  let opened: Promise<SessionStore> | null = null;
  const open = async (): Promise<SessionStore> => {
    try {
      if (typeof indexedDB !== "undefined") return await openIndexedDbStore(indexedDB);
    } catch {
      // Fall through to localStorage.
    }
    return localStorageStore(window.localStorage);
  };
  const store = () => (opened ??= open());
  return {
    read: async () => (await store()).read(),
    write: async (session) => (await store()).write(session),
    clear: async () => (await store()).clear(),
  };
}
