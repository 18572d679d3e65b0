// The Session, wired to this browser: localStorage, the Web Locks API, a BroadcastChannel, timers.
import type { PublicClient } from "../api/public-client";
import { toApiFailure } from "../lib/errors";
import { Session, type SessionMessage } from "./session";
import { localStorageStore, openIndexedDbStore, type SessionStore } from "./store";

const CHANNEL_NAME = "parley.session";

/**
 * navigator.locks exists in secure contexts (https, localhost). Elsewhere fall back to a lock within
 * the tab, which still keeps one tab from refreshing twice at once.
 */
function lockRunner(): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (locks) return (name, fn) => locks.request(name, fn);
  const tails = new Map<string, Promise<unknown>>();
  return (name, fn) => {
    const run = (tails.get(name) ?? Promise.resolve()).then(fn, fn);
    tails.set(name, run.catch(() => undefined));
    return run;
  };
}

function broadcast() {
  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CHANNEL_NAME) : null;
  return {
    post: (message: SessionMessage) => channel?.postMessage(message),
    listen: (onMessage: (message: SessionMessage) => void) => {
      const handler = (event: MessageEvent<SessionMessage>) => onMessage(event.data);
      channel?.addEventListener("message", handler);
      return () => channel?.removeEventListener("message", handler);
    },
  };
}

/** Opens the store on first use, so that the session can be created before it is ready. */
function lazyStore(open: () => Promise<SessionStore>): SessionStore {
  let opened: Promise<SessionStore> | null = null;
  const store = () => (opened ??= open());
  return {
    read: async () => (await store()).read(),
    write: async (session) => (await store()).write(session),
    clear: async () => (await store()).clear(),
  };
}

async function openStore(): Promise<SessionStore> {
  try {
    if (typeof indexedDB !== "undefined") return await openIndexedDbStore(indexedDB);
  } catch {
    // Private modes of some browsers refuse IndexedDB.
  }
  return localStorageStore(window.localStorage);
}

export function createBrowserSession(api: PublicClient): Session {
  return new Session({
    store: lazyStore(openStore),
    withLock: lockRunner(),
    channel: broadcast(),
    async refresh(refreshToken) {
      try {
        return { ok: true, tokens: await api.auth.refresh.mutate({ refreshToken }) };
      } catch (error) {
        const { code } = toApiFailure(error);
        return { ok: false, rejected: code === "UNAUTHORIZED" || code === "BAD_REQUEST" };
      }
    },
    async logout(refreshToken) {
      await api.auth.logout.mutate({ refreshToken });
    },
    now: () => Date.now(),
    setTimer: (fn, ms) => window.setTimeout(fn, ms),
    clearTimer: (handle) => window.clearTimeout(handle as number),
  });
}
