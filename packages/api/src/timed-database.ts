// Database time per operation: the stores' calls (packages/db: the message store, the event log,
// search) timed at the API's boundary, each under a fixed name ("messages.insert",
// "events.inEventOrder"), bound once here. Prisma's own queries outside the stores are not timed.
import type { Database, EventLog, MessageSearch, MessageStore } from "@parley/db";
import type { Metrics } from "./metrics.js";

// Every method of each store, so that a new one is a compile error here until it is timed too.
const MESSAGE_STORE: Record<keyof MessageStore, true> = {
  insert: true,
  page: true,
  threadPage: true,
  pageAfter: true,
  threadPageAfter: true,
  readState: true,
  conversationOf: true,
  latestId: true,
  markRead: true,
  react: true,
};
const EVENT_LOG: Record<keyof EventLog, true> = {
  inEventOrder: true,
  after: true,
  forUser: true,
  spans: true,
  floor: true,
  prune: true,
  markRestored: true,
};
const SEARCH: Record<keyof MessageSearch, true> = { search: true, scopeOf: true, catchUp: true };

/** The names database time is recorded under: a fixed set, known before any call. */
export const DATABASE_OPERATIONS: readonly string[] = [
  ...Object.keys(MESSAGE_STORE).map((name) => `messages.${name}`),
  ...Object.keys(EVENT_LOG).map((name) => `events.${name}`),
  ...Object.keys(SEARCH).map((name) => `search.${name}`),
];

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/** The same store, each method recording how long its promise took to settle (failures too). */
function timed<T extends object>(store: T, prefix: string, methods: Record<keyof T, true>, metrics: Metrics): T {
  const original = store as unknown as Record<string, AsyncMethod>;
  const wrapped: Record<string, AsyncMethod> = { ...original };
  for (const name of Object.keys(methods)) {
    const method = original[name] as AsyncMethod;
    const record = metrics.databaseTimer(`${prefix}.${name}`);
    wrapped[name] = (...args) => {
      const started = performance.now();
      const done = () => record((performance.now() - started) / 1000);
      return method.apply(store, args).then(
        (result) => {
          done();
          return result;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    };
  }
  return wrapped as unknown as T;
}

/** The database with its stores timed. */
export function timedDatabase(db: Database, metrics: Metrics): Database {
  return {
    ...db,
    messages: timed(db.messages, "messages", MESSAGE_STORE, metrics),
    events: timed(db.events, "events", EVENT_LOG, metrics),
    search: timed(db.search, "search", SEARCH, metrics),
  };
}
