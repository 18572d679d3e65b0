// Starts real Parley servers for tests and talks to them with @trpc/client over real HTTP and a
// real WebSocket. Every server gets a fresh database: a new SQLite file, or a new PostgreSQL
// database on TEST_DATABASE_URL's server.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, vi } from "vitest";
import WebSocket from "ws";
import {
  createTRPCClient,
  createWSClient,
  httpLink,
  wsLink,
  TRPCClientError,
  type TRPCClient,
} from "@trpc/client";
import { defaultApiConfig, type ApiConfig, type AppRouter } from "@parley/api";
import type { FeedEvent, MessageDto } from "@parley/api/schemas";
import { loadConfig } from "../src/config.js";
import { createLogger, startServer, type Logger, type LogLevel, type RunningServer, type ServerConfig, type StartOptions } from "../src/index.js";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";
export const postgresUrl = process.env.TEST_DATABASE_URL;
export const redisUrl = process.env.TEST_REDIS_URL;
/** A limit no test reaches by accident. */
const GENEROUS = { max: 100_000, windowSeconds: 60 };

export type Provider = "sqlite" | "postgresql";

/**
 * Runs a suite once per provider: SQLite always, PostgreSQL when TEST_DATABASE_URL names a server.
 * Without it the PostgreSQL suite is reported as skipped, with the reason in its name.
 */
export function describeEachProvider(name: string, suite: (provider: Provider) => void): void {
  describe(`${name} [sqlite]`, () => suite("sqlite"));
  const skipped = !postgresUrl;
  describe.skipIf(skipped)(`${name} [postgresql]${skipped ? " (skipped: TEST_DATABASE_URL is not set)" : ""}`, () => suite("postgresql"));
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(provider: Provider): Promise<TestDatabase> {
  if (provider === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "parley-test-"));
    return { url: `file:${join(dir, "parley.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!postgresUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `parley_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestServer extends RunningServer {
  database: TestDatabase;
  /** Closes this server and starts a new one on the same port and database. */
  restart(): Promise<TestServer>;
}

export interface TestServerOptions extends StartOptions {
  database?: TestDatabase;
  port?: number;
  redisUrl?: string | null;
  redisChannel?: string;
  /** Connect through this URL instead of database.url (a proxy in front of the same database). */
  databaseUrl?: string;
  /** How X-Forwarded-For is read (TRUST_PROXY); by default it is ignored. */
  trustProxy?: ServerConfig["trustProxy"];
  /** METRICS and METRICS_TOKEN; by default on, without a token. */
  metrics?: ServerConfig["metrics"];
  /** A built web app to serve at / (by default none: the placeholder page). */
  webDistDir?: string | null;
  /** The uploads' folder (FILES_DIR) and file settings; by default a fresh folder under the system's temp dir, kept across restart(). */
  files?: Partial<ServerConfig["files"]>;
}

export async function startTestServer(provider: Provider, options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(provider));
  // Not created until something is uploaded; the same folder after a restart.
  const files = { ...loadConfig({}, tmpdir(), { jwtSecret: TEST_JWT_SECRET }).config.files, dir: join(tmpdir(), `parley-files-${randomUUID()}`), ...options.files };
  const server = await startServer(
    {
      port: options.port ?? 0,
      host: "127.0.0.1",
      databaseUrl: options.databaseUrl ?? database.url,
      redisUrl: options.redisUrl ?? null,
      redisChannel: options.redisChannel ?? "parley:test",
      jwtSecret: TEST_JWT_SECRET,
      webDistDir: options.webDistDir ?? null,
      logLevel: "silent",
      shutdownTimeoutMs: 2_000,
      // Suites sign many users up from 127.0.0.1; the signup-limit tests set their own.
      signupRateLimit: { perAddress: GENEROUS, overall: GENEROUS },
      files,
      ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
      ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    },
    options,
  );
  const testServer: TestServer = {
    ...server,
    database,
    async restart() {
      await server.close();
      // Let clients notice their pooled keep-alive connections were closed, as a browser would.
      await sleep(100);
      return startTestServer(provider, { ...options, database, port: server.port, files });
    },
  };
  return testServer;
}

export type Client = TRPCClient<AppRouter>;

export function httpClient(server: { url: string }, token?: () => string | undefined): Client {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        headers: () => {
          const t = token?.();
          return t ? { Authorization: `Bearer ${t}` } : {};
        },
      }),
    ],
  });
}

export interface LiveClient {
  client: Client;
  close(): Promise<void>;
}

/** A WebSocket client that authenticates with connectionParams, as the web app does. */
export function wsClient(
  server: { url: string; port: number },
  token: string | undefined | (() => string | undefined),
  options: { retryDelayMs?: number } = {},
): LiveClient {
  const ws = createWSClient({
    url: `ws://127.0.0.1:${server.port}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    // Called on every (re)connect, so a client can hand over a fresh token.
    connectionParams: () => {
      const current = typeof token === "function" ? token() : token;
      return current ? { token: current } : {};
    },
    retryDelayMs: () => options.retryDelayMs ?? 100,
  });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }), close: () => ws.close() };
}

export interface SignedIn {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  api: Client;
}

let userCounter = 0;
export function uniqueName(prefix = "user"): string {
  userCounter += 1;
  return `${prefix}${userCounter}_${randomUUID().slice(0, 6)}`;
}

export async function signUpAndLogIn(server: { url: string }, username = uniqueName(), password = "correct horse battery"): Promise<SignedIn> {
  const anon = httpClient(server);
  const user = await anon.auth.signup.mutate({ username, password, fullName: `Full ${username}` });
  const tokens = await anon.auth.login.mutate({ username, password });
  const signedIn: SignedIn = { id: user.id, username: user.username, ...tokens, api: httpClient(server, () => signedIn.accessToken) };
  return signedIn;
}

export interface Received {
  messages: MessageDto[];
  ids: string[];
  errors: unknown[];
  unsubscribe(): void;
  /** Waits until at least `count` messages arrived (or fails after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<MessageDto[]>;
}

/** Subscribes to message.live and records every delivery. */
export function collectLive(live: LiveClient, lastEventId?: string): Received {
  const received: Received = {
    messages: [],
    ids: [],
    errors: [],
    unsubscribe: () => undefined,
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.messages.length < count) {
        if (received.errors.length > 0) throw received.errors[0];
        if (Date.now() > deadline) throw new Error(`expected ${count} live messages, got ${received.messages.length}`);
        await sleep(10);
      }
      return received.messages;
    },
  };
  const subscription = live.client.message.live.subscribe(lastEventId ? { lastEventId } : undefined, {
    onData: (event) => {
      received.messages.push(event.data);
      received.ids.push(event.id);
    },
    onError: (error) => received.errors.push(error),
  });
  received.unsubscribe = () => subscription.unsubscribe();
  return received;
}

export interface SyncReceived {
  /** Stored events in arrival order, with their ids. */
  stored: { id: string; event: FeedEvent }[];
  /** Typing and presence, in arrival order. */
  ephemeral: FeedEvent[];
  errors: unknown[];
  unsubscribe(): void;
  /** Waits until at least `count` stored events arrived (or fails after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<{ id: string; event: FeedEvent }[]>;
  /** Waits until an ephemeral event matching `match` arrived. */
  waitForEphemeral(match: (event: FeedEvent) => boolean, timeoutMs?: number): Promise<FeedEvent>;
}

/** Subscribes to sync.events and records every delivery. */
export function collectSync(live: LiveClient, lastEventId?: string): SyncReceived {
  const received: SyncReceived = {
    stored: [],
    ephemeral: [],
    errors: [],
    unsubscribe: () => undefined,
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.stored.length < count) {
        if (received.errors.length > 0) throw received.errors[0];
        if (Date.now() > deadline) throw new Error(`expected ${count} stored events, got ${received.stored.length}: ${JSON.stringify(received.stored.map((e) => e.event.type))}`);
        await sleep(10);
      }
      return received.stored;
    },
    async waitForEphemeral(match, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.ephemeral.find(match);
        if (found) return found;
        if (received.errors.length > 0) throw received.errors[0];
        if (Date.now() > deadline) throw new Error(`no matching ephemeral event among ${JSON.stringify(received.ephemeral)}`);
        await sleep(10);
      }
    },
  };
  const subscription = live.client.sync.events.subscribe(lastEventId ? { lastEventId } : undefined, {
    onData: (data: unknown) => {
      // Tracked events arrive as { id, data }; ephemeral ones as the event itself.
      const tracked = data as { id?: unknown; data?: FeedEvent };
      if (typeof tracked.id === "string" && tracked.data !== undefined) received.stored.push({ id: tracked.id, event: tracked.data });
      else received.ephemeral.push(data as FeedEvent);
    },
    onError: (error) => received.errors.push(error),
  });
  received.unsubscribe = () => subscription.unsubscribe();
  return received;
}

/** Waits until the subscription is registered on the server, so that nothing sent after it is missed. */
export async function waitForSubscribers(server: RunningServer, count: number, timeoutMs = 5_000): Promise<void> {
  await vi.waitFor(() => expect(server.services.hub.subscriptionCount, "live subscriptions").toBeGreaterThanOrEqual(count), { timeout: timeoutMs, interval: 10 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The tRPC error code a call failed with. */
export async function errorCodeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return (error.data as { code?: string } | undefined)?.code ?? "UNKNOWN";
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

export async function errorOf(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

export function clientMessageId(): string {
  return randomUUID();
}

export interface RawSocket {
  socket: WebSocket;
  /** Every text frame received, parsed where it was JSON. */
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Waits for a frame that matches (or fails after timeoutMs). */
  waitFor(predicate: (frame: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
}

/** A bare WebSocket speaking tRPC's wire format, for tests about the connection itself. */
export async function rawSocket(
  server: { port: number },
  options: { token?: string; origin?: string; connectionParams?: boolean; scheme?: "ws" | "wss"; ca?: Buffer } = {},
): Promise<RawSocket> {
  const params = options.connectionParams ?? true;
  const socket = new WebSocket(`${options.scheme ?? "ws"}://127.0.0.1:${server.port}/trpc${params ? "?connectionParams=1" : ""}`, {
    headers: options.origin ? { Origin: options.origin } : {},
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const frames: unknown[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on("message", (data) => {
    const text = data.toString();
    try {
      frames.push(JSON.parse(text));
    } catch {
      frames.push(text);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  if (params) socket.send(JSON.stringify({ method: "connectionParams", data: options.token ? { token: options.token } : {} }));
  return {
    socket,
    frames,
    closed,
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    waitFor(predicate, timeoutMs = 5_000) {
      return vi.waitFor(
        () => {
          const found = frames.find(predicate);
          if (found === undefined) throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 500)}`);
          return found;
        },
        { timeout: timeoutMs, interval: 10 },
      );
    },
  };
}

type Limits = ApiConfig["limits"];

/** API limits for tests: generous where a test sends fast, with the ones a test is about overridden. */
export function testLimits(overrides: Partial<Limits> = {}): { limits: Limits } {
  return {
    limits: {
      ...defaultApiConfig.limits,
      loginFailuresPerAddress: { max: 1000, windowSeconds: 60 },
      messagesPerUser: { max: 100_000, windowSeconds: 60 },
      messageChangesPerUser: { max: 100_000, windowSeconds: 60 },
      signupsPerAddress: GENEROUS,
      signupsOverall: GENEROUS,
      ...overrides,
    },
  };
}

/**
 * A server with a fresh database for the enclosing suite: started before its tests, closed and its
 * database dropped after them. Call the returned function inside tests to reach it.
 */
export function suiteServer(provider: Provider, options: TestServerOptions = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(provider, options);
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.drop();
  });
  return () => {
    if (!server) throw new Error("the suite's server has not started (call it inside a test)");
    return server;
  };
}

export interface CapturedLog {
  /** Pass as StartOptions.logger: the server's real logger (redaction and all), writing here. */
  logger: Logger;
  /** Every line as written. */
  lines: string[];
  /** The lines parsed. */
  entries(): Record<string, unknown>[];
}

/** Captures what a server logs, exactly as it would reach stdout. */
export function captureLog(level: LogLevel = "debug"): CapturedLog {
  const lines: string[] = [];
  return {
    logger: createLogger(level, (line) => lines.push(line)),
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/**
 * Per test file: undo steps run after each test (last first; a failing one does not stop the
 * rest), live WebSocket clients closed by them, and sync.events subscriptions that are held by the
 * server before they are returned. Call it once at the top of a test file.
 */
export function perTestCleanup() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });
  const live = (server: TestServer, user: SignedIn): LiveClient => {
    const client = wsClient(server, user.accessToken);
    cleanups.push(() => client.close());
    return client;
  };
  const subscribe = async (server: TestServer, user: SignedIn, lastEventId?: string): Promise<SyncReceived> => {
    const before = server.services.hub.subscriptionCount;
    const received = collectSync(live(server, user), lastEventId);
    await waitForSubscribers(server, before + 1);
    return received;
  };
  return { cleanups, live, subscribe };
}
