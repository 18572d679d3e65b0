// Attacks and bad days: each fails with a clear error and changes nothing, and no acknowledged
// message is lost.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpsRequest } from "node:https";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  collectLive,
  createTestDatabase,
  errorCodeOf,
  errorOf,
  httpClient,
  rawSocket,
  signUpAndLogIn,
  sleep,
  startTestServer,
  TEST_JWT_SECRET,
  uniqueName,
  waitForSubscribers,
  wsClient,
  type LiveClient,
  type TestServer,
  testLimits,
} from "./harness.js";

const PASSWORD = "correct horse battery";
const hasId = (id: number) => (frame: unknown) => typeof frame === "object" && frame !== null && (frame as { id?: unknown }).id === id;
const errorCode = (frame: unknown) => (frame as { error?: { data?: { code?: string } } }).error?.data?.code;

describe("hostile WebSocket clients", () => {
  let server: TestServer;
  const opened: LiveClient[] = [];
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      wsLimits: { connectionParamsTimeoutMs: 300, framesPerSecond: 20, frameBurst: 40, maxBatch: 5 },
      keepAlive: { pingMs: 200, pongWaitMs: 300 },
      api: {
        accessTtlSeconds: 3,
        ...testLimits(),
      },
    });
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await server.close();
    await server.database.drop();
  });

  it("bad tokens over WebSocket are UNAUTHORIZED: alg none, another key, HS512, wrong audience, expired, not yet valid, refresh token", async () => {
    const user = await signUpAndLogIn(server);
    const { sub, sid } = jwt.decode(user.accessToken) as jwt.JwtPayload;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub, sid, iss: "parley", aud: "parley:access", iat: now, exp: now + 600 };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const tokens = [
      `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`,
      jwt.sign(claims, "another-secret-that-is-long-enough-0123456789"),
      jwt.sign(claims, TEST_JWT_SECRET, { algorithm: "HS512" }),
      jwt.sign({ ...claims, aud: "parley:refresh" }, TEST_JWT_SECRET),
      jwt.sign({ ...claims, iss: "someone-else" }, TEST_JWT_SECRET),
      jwt.sign({ ...claims, iat: now - 3600, exp: now - 10 }, TEST_JWT_SECRET),
      jwt.sign({ ...claims, nbf: now + 300 }, TEST_JWT_SECRET),
      user.refreshToken,
      "garbage",
    ];
    for (const token of tokens) {
      const raw = await rawSocket(server, { token });
      raw.send({ id: 1, method: "query", params: { path: "auth.me", input: null } });
      expect(errorCode(await raw.waitFor(hasId(1)))).toBe("UNAUTHORIZED");
      raw.socket.close();
    }
  });

  it("an upgrade from a foreign Origin is refused with 403; the server's own origin is accepted", async () => {
    await expect(rawSocket(server, { origin: "https://evil.example" })).rejects.toThrow(/403/);
    const own = await rawSocket(server, { origin: `http://127.0.0.1:${server.port}` });
    own.socket.close();
  });

  it("a frame over 64 KiB closes the connection with 1009", async () => {
    const raw = await rawSocket(server);
    raw.send("x".repeat(65 * 1024));
    expect((await raw.closed).code).toBe(1009);
  });

  it("a flood of frames closes the connection with 1008", async () => {
    const raw = await rawSocket(server);
    for (let i = 0; i < 200; i += 1) raw.send("PONG");
    expect(await raw.closed).toEqual({ code: 1008, reason: "too many messages" });
  });

  it("a frame batching more calls than allowed closes the connection with 1008", async () => {
    const user = await signUpAndLogIn(server);
    const raw = await rawSocket(server, { token: user.accessToken });
    raw.send(Array.from({ length: 6 }, (_, i) => ({ id: i + 1, method: "query", params: { path: "auth.me", input: null } })));
    expect(await raw.closed).toEqual({ code: 1008, reason: "too many calls in one message" });
    expect(raw.frames.filter((f) => typeof f === "object" && f !== null && "result" in f)).toEqual([]);
  });

  it("a connection that never sends its connection parameters is closed after the timeout", async () => {
    const raw = await rawSocket(server, { connectionParams: false });
    raw.socket.close();
    const silent = await (async () => {
      const { WebSocket } = await import("ws");
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/trpc?connectionParams=1`);
      return new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    })();
    expect(silent).toBe(1008);
  });

  it("a peer that stops answering pings is dropped", async () => {
    const raw = await rawSocket(server);
    // The tRPC client answers "PING" with "PONG"; this one never does.
    const { code } = await raw.closed;
    expect(code).toBe(1006);
    expect(raw.frames).toContain("PING");
  });

  it("a connection ends when the access token it authenticated with expires", async () => {
    const user = await signUpAndLogIn(server);
    const raw = await rawSocket(server, { token: user.accessToken });
    raw.socket.on("message", (data) => {
      if (data.toString() === "PING") raw.socket.send("PONG");
    });
    raw.send({ id: 1, method: "subscription", params: { path: "message.live", input: {} } });
    const started = Date.now();
    expect(await raw.closed).toEqual({ code: 4001, reason: "token expired" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a connection ends when its session is logged out", async () => {
    const user = await signUpAndLogIn(server);
    const raw = await rawSocket(server, { token: user.accessToken });
    raw.socket.on("message", (data) => {
      if (data.toString() === "PING") raw.socket.send("PONG");
    });
    raw.send({ id: 1, method: "query", params: { path: "auth.me", input: null } });
    await raw.waitFor(hasId(1));
    await httpClient(server).auth.logout.mutate({ refreshToken: user.refreshToken });
    expect(await raw.closed).toEqual({ code: 4003, reason: "session ended" });
  });

  it("a client whose token expires reconnects with a fresh one and resumes without loss", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    // Both keep their sessions alive as the web app does: a new pair well before expiry.
    const refresher = setInterval(() => {
      for (const user of [alice, bob]) {
        void httpClient(server).auth.refresh.mutate({ refreshToken: user.refreshToken }).then((pair) => {
          user.refreshToken = pair.refreshToken;
          user.accessToken = pair.accessToken;
        });
      }
    }, 1_000);
    try {
      const client = wsClient(server, () => bob.accessToken, { retryDelayMs: 50 });
      opened.push(client);
      const received = collectLive(client);
      await waitForSubscribers(server, 1);
      const sent = [];
      // Spans at least two token lifetimes (3 s each), so the connection is replaced at least once.
      for (let i = 0; i < 35; i += 1) {
        sent.push(await alice.api.message.send.mutate({ conversationId: id, content: `m${i}`, clientMessageId: `m${i}` }));
        await sleep(200);
      }
      await received.waitFor(35, 10_000);
      await sleep(200);
      expect(received.messages).toEqual(sent);
    } finally {
      clearInterval(refresher);
    }
  });

  it("a client that stops reading is cut off; the others get every message and the server stays up", async () => {
    const limited = await startTestServer("sqlite", {
      wsLimits: { maxBufferedBytes: 256 * 1024 },
      api: testLimits(),
    });
    try {
      const [alice, slow, fast] = await Promise.all([signUpAndLogIn(limited), signUpAndLogIn(limited), signUpAndLogIn(limited)]);
      const { id } = await alice.api.conversation.create.mutate({ title: "flood", memberIds: [slow.id, fast.id] });
      const stalled = await rawSocket(limited, { token: slow.accessToken });
      stalled.send({ id: 1, method: "subscription", params: { path: "message.live", input: {} } });
      const healthy = wsClient(limited, fast.accessToken);
      opened.push(healthy);
      const received = collectLive(healthy);
      await waitForSubscribers(limited, 2);
      // Stop reading: the server's buffer for this client grows with every message.
      (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const content = "x".repeat(3_900);
      // Enough to fill the kernel's socket buffers (a few MB on loopback) and then the server's.
      const count = 2_500;
      // Twenty in flight at a time: one at a time took most of the test's time on a loaded machine.
      for (let first = 0; first < count; first += 20) {
        const sends = [];
        for (let i = first; i < Math.min(count, first + 20); i += 1) {
          sends.push(alice.api.message.send.mutate({ conversationId: id, content, clientMessageId: `f${i}` }));
        }
        await Promise.all(sends);
      }
      await received.waitFor(count, 30_000);
      await vi.waitFor(() => expect(limited.services.hub.subscriptionCount).toBe(1), { timeout: 5_000, interval: 20 });
      expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
    } finally {
      await limited.close();
      await limited.database.drop();
    }
    // 10 MB through a stalled socket: allow for a loaded machine.
  }, 60_000);
});

describe("hostile HTTP clients and passwords", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      api: testLimits({ loginFailuresPerAccountAndAddress: { max: 3, windowSeconds: 1 }, loginFailuresPerAddress: { max: 5, windowSeconds: 1 }, messagesPerUser: { max: 10_000, windowSeconds: 60 } }),
    });
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });

  it("a 1 MB password is refused with 413 before any hashing", async () => {
    let hashed = 0;
    const verify = server.services.passwords.verify.bind(server.services.passwords);
    server.services.passwords.verify = (hash, password) => {
      hashed += 1;
      return verify(hash, password);
    };
    try {
      const response = await fetch(`${server.url}/trpc/auth.login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "someone", password: "p".repeat(1024 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(hashed).toBe(0);
    } finally {
      server.services.passwords.verify = verify;
    }
  });

  it("more calls in one HTTP batch than allowed are refused", async () => {
    const paths = Array.from({ length: 21 }, () => "auth.me").join(",");
    const response = await fetch(`${server.url}/trpc/${paths}?batch=1&input=${encodeURIComponent("{}")}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("an unknown username costs the same argon2 verification as a wrong password", async () => {
    const user = await signUpAndLogIn(server);
    const count = async (username: string) => {
      let verifications = 0;
      const verify = server.services.passwords.verify.bind(server.services.passwords);
      server.services.passwords.verify = (hash, password) => {
        verifications += 1;
        return verify(hash, password);
      };
      try {
        expect(await errorCodeOf(httpClient(server).auth.login.mutate({ username, password: "wrong password" }))).toBe("UNAUTHORIZED");
      } finally {
        server.services.passwords.verify = verify;
      }
      return verifications;
    };
    expect(await count(uniqueName("ghost"))).toBe(await count(user.username));
    expect(await count(user.username)).toBe(1);
  });

  it("failed logins are throttled per client address too, and the throttle lifts by itself", async () => {
    const addressServer = await startTestServer("sqlite", {
      database: server.database,
      api: testLimits({ loginFailuresPerAccountAndAddress: { max: 100, windowSeconds: 1 }, loginFailuresPerAddress: { max: 3, windowSeconds: 1 }, messagesPerUser: { max: 100, windowSeconds: 60 } }),
    });
    try {
      const victim = await signUpAndLogIn(addressServer);
      const anon = httpClient(addressServer);
      for (let i = 0; i < 3; i += 1) await errorCodeOf(anon.auth.login.mutate({ username: uniqueName("spray"), password: "wrong password" }));
      const limited = await errorOf(anon.auth.login.mutate({ username: victim.username, password: PASSWORD }));
      expect(limited.data?.code).toBe("TOO_MANY_REQUESTS");
      expect((limited.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
      await sleep(1_200);
      expect(await anon.auth.login.mutate({ username: victim.username, password: PASSWORD })).toHaveProperty("accessToken");
    } finally {
      await addressServer.close();
    }
  });

  it("a hash made with weaker argon2 parameters is upgraded at the next login", async () => {
    const user = await signUpAndLogIn(server);
    const stronger = await startTestServer("sqlite", {
      database: server.database,
      api: { passwordCost: { memoryCost: 19_456 * 2, timeCost: 3, parallelism: 1 } },
    });
    try {
      const before = await stronger.services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(before.passwordHash).toContain("m=19456");
      await httpClient(stronger).auth.login.mutate({ username: user.username, password: PASSWORD });
      const after = await stronger.services.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(after.passwordHash).toContain("m=38912");
      expect(after.passwordHash).toContain("t=3");
      expect(await httpClient(stronger).auth.login.mutate({ username: user.username, password: PASSWORD })).toHaveProperty("accessToken");
    } finally {
      await stronger.close();
    }
  });

  it("50 logins at once do not hold up message delivery", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const live = wsClient(server, bob.accessToken);
    const received = collectLive(live);
    await waitForSubscribers(server, 1);
    let loginsDone = 0;
    const logins = Array.from({ length: 50 }, () =>
      httpClient(server)
        .auth.login.mutate({ username: alice.username, password: PASSWORD })
        .finally(() => (loginsDone += 1)),
    );
    await sleep(20);
    await alice.api.message.send.mutate({ conversationId: id, content: "during the burst", clientMessageId: "burst" });
    await received.waitFor(1, 10_000);
    expect(loginsDone).toBeLessThan(50);
    await Promise.allSettled(logins);
    await live.close();
  });

  it("50 concurrent writers on SQLite all succeed", async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => signUpAndLogIn(server)));
    const [first, ...others] = users;
    if (!first) throw new Error("no users");
    const { id } = await first.api.conversation.create.mutate({ title: "writers", memberIds: others.map((u) => u.id) });
    const sends = Array.from({ length: 50 }, (_, i) => {
      const sender = users[i % users.length] ?? first;
      return sender.api.message.send.mutate({ conversationId: id, content: `w${i}`, clientMessageId: `w${i}` });
    });
    const results = await Promise.allSettled(sends);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await server.services.db.prisma.message.count({ where: { conversationId: id } })).toBe(50);
  });

  it("the web app is served with a Content-Security-Policy, nosniff and no framing", async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect((await fetch(`${server.url}/trpc/auth.me`)).headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("TLS", () => {
  it("with TLS_CERT_FILE and TLS_KEY_FILE the server speaks HTTPS and wss://", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-tls-"));
    const certFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certFile,
    ], { stdio: "ignore" });
    const ca = readFileSync(certFile);
    const database = await createTestDatabase("sqlite");
    const { startServer } = await import("../src/index.js");
    const server = await startServer({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: database.url,
      jwtSecret: TEST_JWT_SECRET,
      webDistDir: null,
      logLevel: "silent",
      tls: { certFile, keyFile },
    });
    try {
      expect(server.url).toMatch(/^https:/);
      const health = await new Promise<string>((resolve, reject) => {
        httpsRequest(`${server.url}/healthz`, { ca }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve(body));
        })
          .on("error", reject)
          .end();
      });
      expect(JSON.parse(health)).toMatchObject({ ok: true });
      const secure = await rawSocket(server, { scheme: "wss", ca });
      secure.send({ id: 1, method: "query", params: { path: "auth.me", input: null } });
      expect(errorCode(await secure.waitFor(hasId(1)))).toBe("UNAUTHORIZED");
      secure.socket.close();
    } finally {
      await server.close();
      await database.drop();
    }
  });
});
