import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlitePath } from "@parley/db";
import {
  captureLog,
  collectLive,
  describeEachProvider,
  errorOf,
  httpClient,
  signUpAndLogIn,
  sleep,
  startTestServer,
  waitForSubscribers,
  wsClient,
  type TestServer,
} from "./harness.js";

/** Nothing a client sees may reveal how the server is built. */
function expectNoInternals(body: string): void {
  expect(body).not.toMatch(/stack|\bat .+\(.+:\d+:\d+\)|SELECT |INSERT |prisma|\/work\/|node_modules|\$argon2/i);
}

describeEachProvider("server", (provider) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(provider);
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });

  it("answers /healthz with 200 and { ok: true } once the database is migrated and reachable", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, database: "up" });
  });

  it("keeps every user, conversation and message across a restart", async () => {
    let target = await startTestServer(provider);
    const [alice, bob] = await Promise.all([signUpAndLogIn(target), signUpAndLogIn(target)]);
    const convo = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const message = await alice.api.message.send.mutate({ conversationId: convo.id, content: "kept", clientMessageId: "k1" });
    target = await target.restart();
    const again = await httpClient(target).auth.login.mutate({ username: alice.username, password: "correct horse battery" });
    const api = httpClient(target, () => again.accessToken);
    // Sending read everything up to the message (v2 read state).
    // Members carry their read pointers (read receipts): alice's is at her message.
    const members = convo.members.map((m) => (m.id === alice.id ? { ...m, lastReadMessageId: message.id } : m));
    expect(await api.conversation.list.query()).toEqual([{ ...convo, members, lastMessage: message, lastReadMessageId: message.id }]);
    expect((await api.message.list.query({ conversationId: convo.id })).items).toEqual([message]);
    // Tokens issued before the restart still work: the secret is the same.
    expect((await bob.api.auth.me.query()).id).toBe(bob.id);
    await target.close();
    await target.database.drop();
  });

  it("validation errors name the problem and carry no stack trace", async () => {
    const response = await fetch(`${server.url}/trpc/auth.signup`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "x", password: "short" }),
    });
    expect(response.status).toBe(400);
    const body = await response.text();
    expectNoInternals(body);
    const parsed = JSON.parse(body) as { error: { message: string; data: { code: string; issues: { path: string }[] } } };
    expect(parsed.error.data.code).toBe("BAD_REQUEST");
    expect(parsed.error.data.issues.map((i) => i.path).sort()).toEqual(["password", "username"]);
  });

  it("malformed JSON and unknown procedures get clean errors", async () => {
    const malformed = await fetch(`${server.url}/trpc/auth.login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(malformed.status).toBe(400);
    expectNoInternals(await malformed.text());
    const unknown = await fetch(`${server.url}/trpc/admin.dropEverything`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(unknown.status).toBe(404);
    expectNoInternals(await unknown.text());
  });

  it("a request body over 100 KiB is refused without being processed", async () => {
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "someone", password: "p".repeat(200 * 1024) }),
    });
    expect(response.status).toBe(413);
    expectNoInternals(await response.text());
  });

  it("graceful shutdown lets an in-flight call finish and tells WebSocket clients to go", async () => {
    const target = await startTestServer(provider);
    const user = await signUpAndLogIn(target);
    const live = wsClient(target, user.accessToken, { retryDelayMs: 60_000 });
    const received = collectLive(live);
    await waitForSubscribers(target, 1);
    // A login takes an argon2 verification: it is still running when shutdown starts.
    const inFlight = httpClient(target).auth.login.mutate({ username: user.username, password: "correct horse battery" });
    await sleep(5);
    await target.close();
    expect(await inFlight).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(target.services.hub.subscriptionCount).toBe(0);
    expect(received.errors).toEqual([]);
    await expect(fetch(`${target.url}/healthz`)).rejects.toThrow();
    await live.close();
    await target.database.drop();
  });
});

describe("server internals never reach a client", () => {
  it("a database failure is answered as a generic INTERNAL_SERVER_ERROR", async () => {
    const server = await startTestServer("sqlite");
    try {
      const user = await signUpAndLogIn(server);
      const raw = new Database(sqlitePath(server.database.url));
      raw.exec('ALTER TABLE "User" RENAME TO "UserGone"');
      raw.close();
      const error = await errorOf(user.api.user.list.query());
      expect(error.data?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(error.message).toBe("Internal server error");
      expectNoInternals(JSON.stringify({ message: error.message, data: error.data, shape: error.shape }));
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("logging", () => {
  it("writes one structured line per request without tokens or passwords", async () => {
    const log = captureLog();
    const server = await startTestServer("sqlite", { logger: log.logger });
    try {
      const user = await signUpAndLogIn(server, undefined, "a-very-secret-password");
      await user.api.auth.me.query();
      await fetch(`${server.url}/trpc/auth.me?input=${encodeURIComponent(user.refreshToken)}`, { headers: { Authorization: `Bearer ${user.accessToken}` } });
      const lines = log.entries();
      const requests = lines.filter((l) => l.msg === "request");
      expect(requests.length).toBeGreaterThanOrEqual(4);
      expect(requests.at(-1)).toMatchObject({ method: "GET", path: "/trpc/auth.me", status: 200 });
      const text = JSON.stringify(lines);
      expect(text).not.toContain(user.accessToken);
      expect(text).not.toContain(user.refreshToken);
      expect(text).not.toContain("a-very-secret-password");
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("web app and CORS", () => {
  let server: TestServer;
  beforeAll(async () => {
    const dist = mkdtempSync(join(tmpdir(), "parley-web-"));
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>Parley app</title>");
    mkdirSync(join(dist, "assets"));
    writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log('app')");
    server = await startTestServer("sqlite");
    await server.close();
    const { startServer } = await import("../src/index.js");
    const running = await startServer({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: server.database.url,
      jwtSecret: "test-secret-that-is-long-enough-for-hs256-0123456789",
      webDistDir: dist,
      corsOrigins: ["http://app.example.test"],
      logLevel: "silent",
    });
    server = { ...running, database: server.database, restart: () => Promise.reject(new Error("not used")) };
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });

  it("serves the built app at / and its own routes, and hashed assets as immutable", async () => {
    const root = await fetch(`${server.url}/`);
    expect(await root.text()).toContain("Parley app");
    expect(await (await fetch(`${server.url}/conversations/123`)).text()).toContain("Parley app");
    const asset = await fetch(`${server.url}/assets/app-abc123.js`);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
  });

  it("never serves a file outside the app folder", async () => {
    const response = await fetch(`${server.url}/..%2f..%2f..%2fetc%2fpasswd`);
    expect(await response.text()).not.toContain("root:");
  });

  it("allows the configured front-end origin and no other", async () => {
    const allowed = await fetch(`${server.url}/healthz`, { headers: { Origin: "http://app.example.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example.test");
    const other = await fetch(`${server.url}/healthz`, { headers: { Origin: "http://evil.example.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${server.url}/trpc/auth.login`, {
      method: "OPTIONS",
      headers: { Origin: "http://app.example.test", "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
  });
});

describe("inputs the databases cannot store", () => {
  it.each([
    ["an unpaired surrogate", "bad \uD800 text"],
    ["a NUL character", "bad \u0000 text"],
  ])("a message with %s is BAD_REQUEST, not a server error", async (_, content) => {
    const server = await startTestServer("sqlite");
    try {
      const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
      const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
      const error = await errorOf(alice.api.message.send.mutate({ conversationId: id, content, clientMessageId: "m" }));
      expect(error.data?.code).toBe("BAD_REQUEST");
      const raw = await fetch(`${server.url}/trpc/auth.login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: `{"username":"x\\ud800","password":"whatever1"}`,
      });
      expect(raw.status).toBe(400);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });

  it("a procedure path with a broken percent-escape is a 400", async () => {
    const server = await startTestServer("sqlite");
    try {
      const response = await fetch(`${server.url}/trpc/%`);
      expect(response.status).toBe(400);
      expectNoInternals(await response.text());
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});
