// What the app had on screen, kept per user in localStorage, so that a reload while the server
// cannot be reached (the service worker serves the app itself) shows the conversations and their
// latest messages instead of nothing. Only the queries the screens start from are kept, and of each
// conversation's history only its newest page. Deleted on sign-out.
import { dehydrate, hydrate, type DehydratedState, type QueryClient } from "@tanstack/react-query";

type KeptStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** tRPC's query keys start with the procedure's path: [["conversation", "list"], { input, type }]. */
const KEPT_PROCEDURES = new Set(["auth.me", "conversation.list", "conversation.get", "message.list"]);
const WRITE_DELAY_MS = 1_000;

function procedureOf(queryKey: readonly unknown[]): string {
  const path = queryKey[0];
  return Array.isArray(path) ? path.join(".") : "";
}

/** A history opened at a message (message.list around it): not where the screens start from. */
function isHistoryWindow(queryKey: readonly unknown[]): boolean {
  const options = queryKey[1];
  if (typeof options !== "object" || options === null || !("input" in options)) return false;
  const { input } = options as { input: unknown };
  return typeof input === "object" && input !== null && "around" in input && (input as { around: unknown }).around !== null;
}

/** A message history as kept: its newest page only. */
function newestPage(data: unknown): unknown {
  if (typeof data !== "object" || data === null || !("pages" in data) || !("pageParams" in data)) return data;
  const { pages, pageParams } = data as { pages: unknown[]; pageParams: unknown[] };
  return { pages: pages.slice(0, 1), pageParams: pageParams.slice(0, 1) };
}

export function keptQueriesKey(userId: string): string {
  return `parley.cache.${userId}`;
}

export interface QueryPersistence {
  /** Puts what was kept into the cache; true when there was something. */
  restore(): boolean;
  stop(): void;
  /** Stops and deletes what was kept. */
  forget(): void;
}

export function persistQueries(queryClient: QueryClient, storage: KeptStorage | null, userId: string): QueryPersistence {
  const key = keptQueriesKey(userId);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const write = () => {
    timer = null;
    if (stopped) return;
    const state = dehydrate(queryClient, {
      shouldDehydrateQuery: (query) => query.state.status === "success" && KEPT_PROCEDURES.has(procedureOf(query.queryKey)) && !isHistoryWindow(query.queryKey),
    });
    const queries = state.queries.map((q) => (procedureOf(q.queryKey) === "message.list" ? { ...q, state: { ...q.state, data: newestPage(q.state.data) } } : q));
    try {
      storage?.setItem(key, JSON.stringify({ ...state, queries }));
    } catch {
      // Full or refused: the next reload offline shows less, nothing else changes.
    }
  };
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.type === "updated" && event.action.type === "success" && timer === null && !stopped) timer = setTimeout(write, WRITE_DELAY_MS);
  });

  const stop = () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return {
    restore() {
      try {
        const kept = storage?.getItem(key);
        if (!kept) return false;
        const state = JSON.parse(kept) as DehydratedState;
        hydrate(queryClient, state);
        return state.queries.length > 0;
      } catch {
        return false;
      }
    },
    stop,
    forget() {
      stop();
      try {
        storage?.removeItem(key);
      } catch {
        // Refused: there is nothing it could have kept either.
      }
    },
  };
}
