// Small pieces the API tests share: a clock the test moves by hand, message fixtures, a throwaway
// database (SQLite, or PostgreSQL on TEST_DATABASE_URL's server), and ways to call procedures
// (in-process and over the fetch adapter).
import { randomBytes } from "node:crypto";
import type { FeedEntry } from "../src/live/feed.js";
import type { QueueItem } from "../src/live/message-queue.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openDatabase, type Database, type Provider } from "@parley/db";
import { TRPCError } from "@trpc/server";
import { afterAll, afterEach, beforeAll, describe } from "vitest";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Clock } from "../src/clock.js";
import { createContext, defaultApiConfig, type ApiConfig, type Services } from "../src/context.js";
import type { DeliverEphemeral, EphemeralEvent } from "../src/live/ephemeral.js";
import { appRouter } from "../src/root.js";
import type { MessageDto } from "../src/schemas.js";

export const TEST_SECRET = "x".repeat(40);

export interface FakeClock extends Clock {
  advanceSeconds(seconds: number): void;
}

/** A clock that stands still until the test moves it. */
export function fakeClock(start = new Date("2030-01-01T00:00:00.000Z")): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advanceSeconds(seconds) {
      current += seconds * 1000;
    },
  };
}

export function messageDto(id: number, overrides: Partial<MessageDto> = {}): MessageDto {
  return {
    id: String(id),
    conversationId: "conversation-1",
    senderId: "user-1",
    content: `message ${id}`,
    clientMessageId: `client-${id}`,
    createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, id)).toISOString(),
    mentions: [],
    editedAt: null,
    deletedAt: null,
    threadId: null,
    replyCount: 0,
    lastReplyAt: null,
    reactions: [],
    attachments: [],
    ...overrides,
  };
}

/** What a live queue holds, by id (an ephemeral event by its type). */
export function itemId(item: QueueItem): string {
  return item.kind === "ephemeral" ? item.event.type : item.id;
}

/** The feed entry of a new message (its id is the event's id). */
export function messageEntry(id: number, overrides: Partial<MessageDto> = {}): FeedEntry {
  return { kind: "message.created", id: String(id), message: messageDto(id, overrides) };
}

/** Whether the promise settles within a few event-loop turns (for "it waits" assertions). */
export async function settlesSoon(promise: Promise<unknown>, ms = 20): Promise<boolean> {
  const pending = Symbol("pending");
  const winner = await Promise.race([
    promise.then(() => true),
    new Promise<typeof pending>((resolve) => setTimeout(() => resolve(pending), ms)),
  ]);
  return winner !== pending;
}

export interface EphemeralRecorder {
  /** Pass as createServices' deliverEphemeral. */
  deliver: DeliverEphemeral;
  /** Every delivery, recipients sorted. */
  delivered: { userIds: string[]; event: EphemeralEvent }[];
}

/** Records the typing and presence events an instance hands to its users' streams. */
export function ephemeralRecorder(): EphemeralRecorder {
  const delivered: EphemeralRecorder["delivered"] = [];
  return { delivered, deliver: (userIds, event) => delivered.push({ userIds: [...userIds].sort(), event }) };
}

export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return { ...defaultApiConfig, jwtSecret: TEST_SECRET, ...overrides };
}

export interface TestDatabase {
  url: string;
  db: Database;
  /** Closes the connection and deletes the files. */
  dispose(): Promise<void>;
}

/** A PostgreSQL server the tests may create databases on; without it their PostgreSQL half is skipped. */
const postgresServerUrl = process.env.TEST_DATABASE_URL;

/**
 * Runs a suite once per provider, for code that builds SQL per provider: SQLite always, PostgreSQL
 * when TEST_DATABASE_URL is set (else reported as skipped, with the reason in the suite's name).
 */
export function describeEachProvider(name: string, suite: (provider: Provider) => void): void {
  describe(`${name} [sqlite]`, () => suite("sqlite"));
  const skipped = postgresServerUrl ? "" : " (skipped: TEST_DATABASE_URL is not set)";
  describe.skipIf(!postgresServerUrl)(`${name} [postgresql]${skipped}`, () => suite("postgresql"));
}

/** A migrated database of its own: a SQLite file in a temporary directory, or a new PostgreSQL database. */
export async function openTestDatabase(provider: Provider = "sqlite"): Promise<TestDatabase> {
  return provider === "sqlite" ? openSqliteTestDatabase() : openPostgresTestDatabase();
}

async function openSqliteTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "parley-api-test-"));
  const url = `file:${join(dir, "test.db")}`;
  await migrate(url);
  const db = await openDatabase(url);
  return {
    url,
    db,
    async dispose() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgresTestDatabase(): Promise<TestDatabase> {
  if (!postgresServerUrl) throw new Error("TEST_DATABASE_URL is not set");
  const server = await openDatabase(postgresServerUrl, { poolSize: 1 });
  const name = `parley_api_test_${randomBytes(6).toString("hex")}`;
  await server.prisma.$executeRawUnsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(postgresServerUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const db = await openDatabase(url.toString());
  return {
    url: url.toString(),
    db,
    async dispose() {
      await db.close();
      await server.prisma.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await server.close();
    },
  };
}

/**
 * One test database for a file's (or a describe block's) tests, opened before the first and deleted
 * after the last, and the services a test opens on it (push them to `opened`), closed after each test.
 */
export function suiteDatabase(provider: Provider = "sqlite"): { readonly database: TestDatabase; opened: Services[] } {
  let database: TestDatabase | undefined;
  const opened: Services[] = [];
  beforeAll(async () => {
    database = await openTestDatabase(provider);
  });
  afterEach(() => {
    for (const services of opened.splice(0)) services.close();
  });
  afterAll(async () => {
    await database?.dispose();
  });
  return {
    get database() {
      if (!database) throw new Error("the suite's database is opened in beforeAll");
      return database;
    },
    opened,
  };
}

/** The TRPCError a call fails with; fails the test if the call succeeds or throws something else. */
export async function trpcErrorOf(call: Promise<unknown>): Promise<TRPCError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

export interface HttpResult {
  status: number;
  /** The raw response body, for "never contains" checks. */
  text: string;
  body: unknown;
}

/** One non-batched tRPC call through the fetch adapter, as an HTTP client would make it. */
export async function callOverHttp(
  services: Services,
  call: { path: string; kind: "query" | "mutation"; input?: unknown; token?: string },
): Promise<HttpResult> {
  const headers = new Headers({ "content-type": "application/json" });
  if (call.token) headers.set("authorization", `Bearer ${call.token}`);
  const url = new URL(`http://localhost/trpc/${call.path}`);
  let req: Request;
  if (call.kind === "query") {
    if (call.input !== undefined) url.searchParams.set("input", JSON.stringify(call.input));
    req = new Request(url, { method: "GET", headers });
  } else {
    req = new Request(url, { method: "POST", headers, body: JSON.stringify(call.input ?? null) });
  }
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req,
    router: appRouter,
    createContext: ({ req: request }) => {
      const bearer = request.headers.get("authorization")?.replace(/^Bearer /, "");
      return createContext(services, bearer);
    },
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as unknown };
}

/** The `error` of a tRPC HTTP error response, checked to have the formatter's shape. */
export interface HttpErrorShape {
  message: string;
  data: {
    code: string;
    httpStatus: number;
    issues?: { path: string; message: string }[];
    retryAfterSeconds?: number;
  };
}

export function errorShapeOf(result: HttpResult): HttpErrorShape {
  const body = result.body;
  if (typeof body !== "object" || body === null || !("error" in body)) {
    throw new Error(`expected an error response, got ${result.text}`);
  }
  return body.error as HttpErrorShape;
}
