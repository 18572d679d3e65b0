// What the server logs: errors an operator can trace (stack, procedure, request or connection id),
// nothing secret in any line, and no flood from a client that repeats a refused request.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { InProcessEventBus, type ParleyEvent } from "@parley/api";
import { loadConfig } from "../src/config.js";
import {
  captureLog,
  clientMessageId,
  collectLive,
  describeEachProvider,
  errorOf,
  httpClient,
  signUpAndLogIn,
  startTestServer,
  TEST_JWT_SECRET,
  waitForSubscribers,
  wsClient,
  type TestServer,
} from "./harness.js";

const PASSWORD = "a-very-secret-password";

/** Makes every message query fail inside the procedure, as a broken database would. */
async function breakMessageTable(server: TestServer): Promise<void> {
  // Reaction rows refer to messages: PostgreSQL drops the table only with what depends on it.
  const cascade = server.services.db.provider === "postgresql" ? " CASCADE" : "";
  await server.services.db.prisma.$executeRawUnsafe(`DROP TABLE "Message"${cascade}`);
}

function procedureFailures(entries: Record<string, unknown>[]): Record<string, unknown>[] {
  return entries.filter((entry) => entry.msg === "procedure failed");
}

describe("the log configuration", () => {
  it("redacts tokens, passwords, secrets, cookies and authorization headers at every level a line carries them", () => {
    const { logger: log, lines } = captureLog("debug");
    const secrets = Array.from({ length: 16 }, (_, i) => `SECRET${i}-${"x".repeat(8)}`);
    const [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15] = secrets as [string, ...string[]];
    log.info({ token: s0, password: s1, accessToken: s2, refreshToken: s3, jwtSecret: s4 }, "top level");
    log.info({ req: { headers: { authorization: `Bearer ${s5}`, cookie: s6, "set-cookie": s7 } } }, "headers");
    log.info({ connectionParams: { token: s8 } }, "connection params");
    log.info({ input: { password: s9, refreshToken: s10 } }, "input");
    log.info({ config: { api: { jwtSecret: s11 } } }, "config");
    log.info({ info: { connectionParams: { token: s12 } } }, "ws connection info");
    log.child({ requestId: "r1" }).warn({ auth: { accessToken: s13, secret: s14 } }, "child");
    log.error({ err: Object.assign(new Error("boom"), { token: s15 }) }, "error with a token on it");
    const text = lines.join("");
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text.match(/\[Redacted\]/g)).toHaveLength(secrets.length);
  });

  it("writes JSON lines with the level's name, an ISO time, msg, and an error's stack under err", () => {
    const log = captureLog("info");
    log.logger.error({ err: new TypeError("bad thing") }, "it broke");
    const entry = log.entries()[0] as { level: string; time: string; msg: string; err: { type: string; message: string; stack: string } };
    expect(entry).toMatchObject({ level: "error", msg: "it broke", err: { type: "TypeError", message: "bad thing" } });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
    expect(entry.err.stack).toMatch(/TypeError: bad thing\n\s+at /);
  });
});

describeEachProvider("an internal error in a procedure", (provider) => {
  it("is logged over HTTP with its stack, the procedure's path and the request id, and the client sees only 'Internal server error'", async () => {
    const log = captureLog();
    const server = await startTestServer(provider, { logger: log.logger });
    try {
      const [user, other] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
      const { id } = await user.api.conversation.create.mutate({ title: "t", memberIds: [other.id] });
      await breakMessageTable(server);
      const response = await fetch(`${server.url}/trpc/message.list?input=${encodeURIComponent(JSON.stringify({ conversationId: id }))}`, {
        headers: { Authorization: `Bearer ${user.accessToken}`, "X-Request-Id": "trace-42.a_b" },
      });
      expect(response.status).toBe(500);
      expect(response.headers.get("x-request-id")).toBe("trace-42.a_b");
      expect(JSON.stringify(await response.json())).toContain("Internal server error");
      const [failure, ...others] = procedureFailures(log.entries());
      expect(others).toHaveLength(0);
      expect(failure).toMatchObject({ level: "error", path: "message.list", requestId: "trace-42.a_b" });
      const err = failure?.err as { stack: string };
      expect(err.stack).toMatch(/\n\s+at /);
      expect(err.stack).toMatch(/Message/);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });

  it("is logged over WebSocket with its stack, the procedure's path and the connection id", async () => {
    const log = captureLog();
    const server = await startTestServer(provider, { logger: log.logger });
    try {
      const [user, other] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
      const { id } = await user.api.conversation.create.mutate({ title: "t", memberIds: [other.id] });
      const live = wsClient(server, user.accessToken);
      try {
        await live.client.auth.me.query();
        await breakMessageTable(server);
        const error = await errorOf(live.client.message.list.query({ conversationId: id }));
        expect(error.message).toBe("Internal server error");
      } finally {
        await live.close();
      }
      const opened = log.entries().find((entry) => entry.msg === "ws open");
      const [failure] = procedureFailures(log.entries());
      expect(opened?.connection).toEqual(expect.any(Number));
      expect(failure).toMatchObject({ path: "message.list", connection: opened?.connection });
      expect((failure?.err as { stack: string }).stack).toMatch(/\n\s+at /);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("failures no caller sees", () => {
  it("a publish that fails after a message was stored is logged by packages/api through the server's logger, with its stack", async () => {
    const log = captureLog();
    // The in-process bus, its message events failing to go out as in a Redis outage.
    const bus = new InProcessEventBus();
    const publish = bus.publish.bind(bus);
    bus.publish = (event: ParleyEvent) => (event.type === "entry" ? Promise.reject(new Error("bus unreachable")) : publish(event));
    const server = await startTestServer("sqlite", { logger: log.logger, bus });
    try {
      const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
      const { id } = await alice.api.conversation.create.mutate({ title: "t", memberIds: [bob.id] });
      await alice.api.message.send.mutate({ conversationId: id, content: "stored, not announced", clientMessageId: clientMessageId() });
      await vi.waitFor(() => expect(log.entries().some((entry) => entry.msg === "publish failed")).toBe(true), { timeout: 5_000 });
      const entry = log.entries().find((e) => e.msg === "publish failed");
      expect(entry).toMatchObject({ level: "warn", err: { message: "bus unreachable" } });
      expect((entry?.err as { stack: string }).stack).toMatch(/Error: bus unreachable\n\s+at /);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("request ids", () => {
  it("a caller's X-Request-Id that is long or has odd characters is replaced by one of ours, echoed and logged", async () => {
    const log = captureLog();
    const server = await startTestServer("sqlite", { logger: log.logger });
    try {
      for (const given of ["x".repeat(65), "<script>alert(1)</script>", "a b"]) {
        const response = await fetch(`${server.url}/healthz`, { headers: { "X-Request-Id": given } });
        const id = response.headers.get("x-request-id") ?? "";
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(log.entries().filter((entry) => entry.msg === "request").at(-1)).toMatchObject({ requestId: id, path: "/healthz" });
      }
      expect(log.lines.join("")).not.toContain("<script>");
    } finally {
      await server.close();
      await server.database.drop();
    }
  });

  it("every response carries a request id, different for each request", async () => {
    const server = await startTestServer("sqlite");
    try {
      const ids = await Promise.all([1, 2, 3].map(async () => (await fetch(`${server.url}/healthz`)).headers.get("x-request-id")));
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("refused WebSocket upgrades", () => {
  it("a client retrying a refused upgrade is logged once per reason, not once per attempt", async () => {
    const log = captureLog();
    const server = await startTestServer("sqlite", { logger: log.logger });
    try {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const status = await new Promise<number>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${server.port}/trpc`, { origin: `http://evil-${attempt}.example` });
          socket.once("unexpected-response", (_req, res) => {
            resolve(res.statusCode ?? 0);
            socket.terminate();
          });
          socket.once("open", () => reject(new Error("upgrade accepted")));
          socket.once("error", reject);
        });
        expect(status).toBe(403);
      }
      const refused = log.entries().filter((entry) => entry.msg === "ws refused");
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ level: "warn", reason: "origin not allowed", origin: "http://evil-0.example" });
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describeEachProvider("secrets in the log", (provider) => {
  it("no token, password or JWT secret appears in any line logged during signup, login, refresh, send, subscribe, a failure and logout", async () => {
    const log = captureLog("debug");
    const server = await startTestServer(provider, { logger: log.logger });
    const seen: string[] = [PASSWORD, TEST_JWT_SECRET];
    try {
      const alice = await signUpAndLogIn(server, undefined, PASSWORD);
      const bob = await signUpAndLogIn(server, undefined, PASSWORD);
      seen.push(alice.accessToken, alice.refreshToken, bob.accessToken, bob.refreshToken);
      // A wrong password, and a token handed where input goes.
      await errorOf(httpClient(server).auth.login.mutate({ username: alice.username, password: `${PASSWORD}-wrong` }));
      seen.push(`${PASSWORD}-wrong`);
      await errorOf(httpClient(server).auth.refresh.mutate({ refreshToken: `${alice.refreshToken}x` }));
      const refreshed = await httpClient(server).auth.refresh.mutate({ refreshToken: bob.refreshToken });
      seen.push(refreshed.accessToken, refreshed.refreshToken);

      const { id } = await alice.api.conversation.create.mutate({ title: "t", memberIds: [bob.id] });
      const live = wsClient(server, refreshed.accessToken);
      try {
        const received = collectLive(live);
        await waitForSubscribers(server, 1);
        await live.client.message.send.mutate({ conversationId: id, content: "over ws", clientMessageId: clientMessageId() });
        await alice.api.message.send.mutate({ conversationId: id, content: "over http", clientMessageId: clientMessageId() });
        await received.waitFor(2);
        received.unsubscribe();
      } finally {
        await live.close();
      }
      // A socket that sends its token and then breaks the protocol, and an internal error.
      const raw = new WebSocket(`ws://127.0.0.1:${server.port}/trpc?connectionParams=1`);
      await new Promise<void>((resolve, reject) => {
        raw.once("open", () => {
          raw.send(JSON.stringify({ method: "connectionParams", data: { token: alice.accessToken } }));
          raw.send("not json");
          raw.send(Buffer.alloc(70 * 1024));
        });
        raw.once("close", () => resolve());
        raw.once("error", reject);
      });
      await breakMessageTable(server);
      await errorOf(alice.api.message.list.query({ conversationId: id }));

      await httpClient(server).auth.logout.mutate({ refreshToken: alice.refreshToken });
      await httpClient(server).auth.logout.mutate({ refreshToken: refreshed.refreshToken });
      await vi.waitFor(() => expect(log.entries().filter((entry) => entry.msg === "ws close")).toHaveLength(2), { timeout: 5_000 });
    } finally {
      await server.close();
      await server.database.drop();
    }
    expect(procedureFailures(log.entries())).toHaveLength(1);
    const text = log.lines.join("");
    for (const secret of seen) expect(text).not.toContain(secret);
    // Tokens are JWTs: no line carries one, whoever's.
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});

describe("startServer's configuration", () => {
  it("a JWT secret passed in is used as is: no secret file is generated and no warning is made about one", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-config-"));
    const { config, warnings } = loadConfig({ DATA_DIR: dataDir }, dataDir, { jwtSecret: TEST_JWT_SECRET, port: 0 });
    expect(config.jwtSecret).toBe(TEST_JWT_SECRET);
    expect(config.port).toBe(0);
    expect(warnings).toEqual([]);
    expect(existsSync(join(dataDir, "jwt-secret"))).toBe(false);
  });

  it("a JWT secret passed in that is too short is refused like one from the environment", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-config-"));
    expect(() => loadConfig({ DATA_DIR: dataDir }, dataDir, { jwtSecret: "short" })).toThrow(/at least 32 bytes/);
  });
});
