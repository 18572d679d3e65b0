// What each transport lets a client hold: live streams only over the WebSocket, and only while the
// session lives; caps on calls per frame (as parsed), subscriptions per connection, connections
// per user, per address and per instance; a deadline to authenticate; one log line per violation.
import { TRPCError } from "@trpc/server";
import { describe, expect, it, vi } from "vitest";
import { createCaller, createContext } from "@parley/api";
import {
  captureLog,
  httpClient,
  rawSocket,
  signUpAndLogIn,
  sleep,
  startTestServer,
  suiteServer,
  testLimits,
  uniqueName,
  waitForSubscribers,
  type RawSocket,
} from "./harness.js";

const hasId = (id: number) => (frame: unknown) => typeof frame === "object" && frame !== null && (frame as { id?: unknown }).id === id;
const errorCode = (frame: unknown) => (frame as { error?: { data?: { code?: string } } }).error?.data?.code;
const resultType = (frame: unknown) => (frame as { result?: { type?: string } }).result?.type;
const subscribe = (id: number) => ({ id, method: "subscription", params: { path: "message.live", input: {} } });
const authMe = (id: number) => ({ id, method: "query", params: { path: "auth.me", input: null } });

/** Answers the server's keep-alive pings, as tRPC's client does. */
function answerPings(raw: RawSocket): RawSocket {
  raw.socket.on("message", (data) => {
    if (data.toString() === "PING") raw.socket.send("PONG");
  });
  return raw;
}

/** Resolves with the close, or with "still open" after `ms`. */
async function closedWithin(raw: RawSocket, ms: number): Promise<{ code: number; reason: string } | "still open"> {
  return Promise.race([raw.closed, sleep(ms).then(() => "still open" as const)]);
}

/** Reads an HTTP answer for at most `ms`: the status, the content type and what arrived. */
async function readFor(response: Response, ms: number): Promise<{ status: number; contentType: string | null; body: string; ended: boolean }> {
  const reader = response.body?.getReader();
  let body = "";
  let ended = reader === undefined;
  const deadline = Date.now() + ms;
  while (reader && !ended && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), sleep(Math.max(1, deadline - Date.now())).then(() => null)]);
    if (chunk === null) break;
    if (chunk.done) ended = true;
    else body += new TextDecoder().decode(chunk.value);
  }
  if (!ended) await reader?.cancel();
  return { status: response.status, contentType: response.headers.get("content-type"), body, ended };
}

describe("live streams over plain HTTP", () => {
  const server = suiteServer("sqlite", { api: testLimits() });

  it("a subscription over HTTP is refused with 405 and a tRPC error, GET and POST, batched or not, and nothing streams", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const auth = { Authorization: `Bearer ${bob.accessToken}` };
    const json = { ...auth, "Content-Type": "application/json" };
    const input = encodeURIComponent(JSON.stringify({}));
    const batchInput = encodeURIComponent(JSON.stringify({ 0: {} }));
    const requests: [string, RequestInit & { path: string }][] = [
      ["GET", { path: `/trpc/message.live?input=${input}`, headers: auth }],
      ["GET without input", { path: "/trpc/message.live", headers: auth }],
      ["GET with an escaped path", { path: "/trpc/message%2Elive", headers: auth }],
      ["GET batched", { path: `/trpc/message.live?batch=1&input=${batchInput}`, headers: auth }],
      ["GET batched, streaming", { path: `/trpc/message.live?batch=1&input=${batchInput}`, headers: { ...auth, "trpc-accept": "application/jsonl" } }],
      ["POST", { path: "/trpc/message.live", method: "POST", headers: json, body: "{}" }],
      ["POST batched", { path: "/trpc/message.live?batch=1", method: "POST", headers: json, body: JSON.stringify({ 0: {} }) }],
    ];
    const answers = await Promise.all(
      requests.map(async ([label, { path, ...init }]) => {
        const response = await fetch(`${server().url}${path}`, init);
        // Something sent while the request is open would show up in a stream.
        await alice.api.message.send.mutate({ conversationId: id, content: `during ${label}`, clientMessageId: label });
        return { label, ...(await readFor(response, 1_000)) };
      }),
    );
    for (const answer of answers) {
      expect(answer.status, answer.label).toBe(405);
      expect(answer.contentType, answer.label).toBe("application/json");
      expect(answer.ended, answer.label).toBe(true);
      expect(answer.body, answer.label).not.toContain("during");
      const body = JSON.parse(answer.body) as unknown;
      expect(errorCode(Array.isArray(body) ? body[0] : body), answer.label).toBe("METHOD_NOT_SUPPORTED");
    }
    expect(server().services.hub.subscriptionCount).toBe(0);
  });

  it("queries and mutations over HTTP are unaffected", async () => {
    const alice = await signUpAndLogIn(server());
    expect((await alice.api.auth.me.query()).id).toBe(alice.id);
  });
});

describe("a live subscription obeys the session by itself, whatever carries it", () => {
  const server = suiteServer("sqlite", { api: { accessTtlSeconds: 2, ...testLimits() } });

  /** The next event of the stream, or "still streaming" after `ms`. */
  async function nextWithin(stream: AsyncIterator<unknown>, ms: number): Promise<unknown> {
    return Promise.race([
      stream.next().then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      ),
      sleep(ms).then(() => "still streaming"),
    ]);
  }

  it("ends with UNAUTHORIZED when the caller's session is logged out", async () => {
    const user = await signUpAndLogIn(server());
    const caller = createCaller(createContext(server().services, user.accessToken));
    const stream = (await caller.message.live({}))[Symbol.asyncIterator]();
    const next = nextWithin(stream, 5_000);
    await waitForSubscribers(server(), 1);
    await httpClient(server()).auth.logout.mutate({ refreshToken: user.refreshToken });
    const outcome = await next;
    expect(outcome).toMatchObject({ error: expect.any(TRPCError) });
    expect(((outcome as { error: TRPCError }).error).code).toBe("UNAUTHORIZED");
    expect(server().services.hub.subscriptionCount).toBe(0);
  });

  it("ends with UNAUTHORIZED when the access token it started with expires", async () => {
    const user = await signUpAndLogIn(server());
    const caller = createCaller(createContext(server().services, user.accessToken));
    const stream = (await caller.message.live({}))[Symbol.asyncIterator]();
    const outcome = await nextWithin(stream, 6_000);
    expect(outcome).toMatchObject({ error: expect.any(TRPCError) });
    expect(((outcome as { error: TRPCError }).error).code).toBe("UNAUTHORIZED");
    expect(server().services.hub.subscriptionCount).toBe(0);
  });
});

describe("the same rules over the WebSocket", () => {
  const server = suiteServer("sqlite", { api: { accessTtlSeconds: 2, ...testLimits() } });

  it("an expiring token closes the connection with 4001 first: the stream sends no error of its own", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    raw.send(subscribe(1));
    await raw.waitFor((f) => hasId(1)(f) && resultType(f) === "started");
    expect(await closedWithin(raw, 6_000)).toEqual({ code: 4001, reason: "token expired" });
    expect(raw.frames.filter((f) => errorCode(f) !== undefined)).toEqual([]);
  });

  it("a logout closes the connection with 4003 first: the stream sends no error of its own", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    raw.send(subscribe(1));
    await raw.waitFor((f) => hasId(1)(f) && resultType(f) === "started");
    await httpClient(server()).auth.logout.mutate({ refreshToken: user.refreshToken });
    expect(await closedWithin(raw, 3_000)).toEqual({ code: 4003, reason: "session ended" });
    expect(raw.frames.filter((f) => errorCode(f) !== undefined)).toEqual([]);
  });
});

describe("WebSocket limits", () => {
  const server = suiteServer("sqlite", {
      wsLimits: { maxBatch: 5, maxConnectionsPerUser: 2, maxConnectionsPerAddress: 1_000, authTimeoutMs: 600 },
      api: { subscriptionsPerConnection: 3, ...testLimits() },
    });

  it("a batch wrapped in JSON white space is held to the same call limit: closed with 1008, nothing runs", async () => {
    const user = await signUpAndLogIn(server());
    for (const [before, after] of [[" ", ""], ["\n\t ", "\r\n"], ["\r", " "]] as const) {
      const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
      raw.send(`${before}${JSON.stringify(Array.from({ length: 6 }, (_, i) => authMe(i + 1)))}${after}`);
      expect(await closedWithin(raw, 3_000)).toEqual({ code: 1008, reason: "too many calls in one message" });
      expect(raw.frames.filter((f) => resultType(f) === "data")).toEqual([]);
    }
  });

  it("a batch within the limit still runs, however it is spaced", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    raw.send(` \n${JSON.stringify([authMe(1), authMe(2)])}\n `);
    await raw.waitFor(hasId(1));
    await raw.waitFor(hasId(2));
    raw.socket.close();
  });

  it("a connection holds at most the allowed subscriptions: the next is refused with TOO_MANY_REQUESTS and the connection stays", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    raw.send([subscribe(1), subscribe(2), subscribe(3)]);
    raw.send(subscribe(4));
    expect(errorCode(await raw.waitFor((f) => hasId(4)(f) && errorCode(f) !== undefined))).toBe("TOO_MANY_REQUESTS");
    await waitForSubscribers(server(), 3);
    expect(server().services.hub.subscriptionCount).toBe(3);
    // The connection is still there, and a slot given back can be taken again.
    raw.send(authMe(5));
    expect(resultType(await raw.waitFor(hasId(5)))).toBe("data");
    raw.send({ id: 1, method: "subscription.stop" });
    raw.send(subscribe(6));
    expect(resultType(await raw.waitFor((f) => hasId(6)(f) && resultType(f) === "started"))).toBe("started");
    raw.socket.close();
    await raw.closed;
  });

  it("duplicate subscription ids in one batch hold no more than the cap, and none outlives the connection", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    raw.send([subscribe(1), subscribe(1), subscribe(1), subscribe(1), subscribe(1)]);
    await raw.waitFor(hasId(1));
    await sleep(200);
    expect(server().services.hub.subscriptionCount).toBeLessThanOrEqual(3);
    raw.socket.close();
    await raw.closed;
    await vi.waitFor(() => expect(server().services.hub.subscriptionCount).toBe(0), { timeout: 3_000, interval: 20 });
  });

  it("a user holds at most the allowed connections: the next is closed with 4008, and a freed place can be taken again", async () => {
    const user = await signUpAndLogIn(server());
    const first = answerPings(await rawSocket(server(), { token: user.accessToken }));
    const second = answerPings(await rawSocket(server(), { token: user.accessToken }));
    for (const [i, raw] of [first, second].entries()) {
      raw.send(authMe(i + 1));
      await raw.waitFor(hasId(i + 1));
    }
    const third = answerPings(await rawSocket(server(), { token: user.accessToken }));
    expect(await closedWithin(third, 3_000)).toEqual({ code: 4008, reason: "too many connections" });
    first.socket.close();
    await first.closed;
    const again = answerPings(await rawSocket(server(), { token: user.accessToken }));
    again.send(authMe(9));
    expect(resultType(await again.waitFor(hasId(9)))).toBe("data");
    expect(await closedWithin(second, 100)).toBe("still open");
    second.socket.close();
    again.socket.close();
  });

  it("a connection that does not authenticate is closed at the deadline; public calls work until then", async () => {
    const name = uniqueName();
    const anonymous = answerPings(await rawSocket(server(), { connectionParams: false }));
    anonymous.send({ id: 1, method: "mutation", params: { path: "auth.signup", input: { username: name, password: "correct horse battery" } } });
    expect(resultType(await anonymous.waitFor(hasId(1)))).toBe("data");
    const badToken = answerPings(await rawSocket(server(), { token: "not a token" }));
    const noToken = answerPings(await rawSocket(server(), {}));
    for (const raw of [anonymous, badToken, noToken]) {
      expect(await closedWithin(raw, 3_000)).toEqual({ code: 1008, reason: "not authenticated in time" });
    }
  });

  it("an authenticated connection outlives the authentication deadline", async () => {
    const user = await signUpAndLogIn(server());
    const raw = answerPings(await rawSocket(server(), { token: user.accessToken }));
    expect(await closedWithin(raw, 1_500)).toBe("still open");
    raw.socket.close();
  });
});

describe("WebSocket connections per client address and per instance", () => {
  it("one address opens at most the allowed connections: the next upgrade is refused with 429", async () => {
    const server = await startTestServer("sqlite", { wsLimits: { maxConnectionsPerAddress: 3 }, api: testLimits() });
    try {
      const open = await Promise.all([1, 2, 3].map(() => rawSocket(server, { connectionParams: false })));
      await expect(rawSocket(server, { connectionParams: false })).rejects.toThrow(/429/);
      open[0]?.socket.close();
      await open[0]?.closed;
      // The place is given back when the server sees the TCP socket close, a moment after the client does.
      const again = await vi.waitFor(() => rawSocket(server, { connectionParams: false }), { timeout: 2_000, interval: 50 });
      again.socket.close();
      for (const raw of open) raw.socket.close();
    } finally {
      await server.close();
      await server.database.drop();
    }
  });

  it("past the instance's connection limit upgrades are refused with 503 and /healthz still answers", async () => {
    const server = await startTestServer("sqlite", { wsLimits: { maxConnections: 3 }, api: testLimits() });
    try {
      const open = await Promise.all([1, 2, 3].map(() => rawSocket(server, { connectionParams: false })));
      await expect(rawSocket(server, { connectionParams: false })).rejects.toThrow(/503/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      for (const raw of open) raw.socket.close();
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("logging a slow reader", () => {
  it("a client that stops reading is logged as a slow consumer once, however many frames were meant for it", async () => {
    const { logger, lines } = captureLog("info");
    const server = await startTestServer("sqlite", { logger, wsLimits: { maxBufferedBytes: 64 * 1024 }, api: testLimits() });
    try {
      const [alice, slow] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
      const { id } = await alice.api.conversation.create.mutate({ title: "flood", memberIds: [slow.id] });
      const stalled = await rawSocket(server, { token: slow.accessToken });
      // Ten subscriptions on one socket: every message is ten frames for it in one turn.
      stalled.send(Array.from({ length: 10 }, (_, i) => subscribe(i + 1)));
      await waitForSubscribers(server, 10);
      (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const content = "x".repeat(3_900);
      for (let i = 0; i < 600 && server.services.hub.subscriptionCount > 0; i += 1) {
        await alice.api.message.send.mutate({ conversationId: id, content, clientMessageId: `f${i}` });
      }
      expect(server.services.hub.subscriptionCount).toBe(0);
      const slowLines = lines.filter((line) => line.includes("slow consumer"));
      expect(slowLines).toHaveLength(1);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});

describe("the WebSocket rate counts calls, not frames", () => {
  it("batches that stay under the batch cap still spend one unit of the rate per call: past the burst the connection closes with 1008", async () => {
    const server = await startTestServer("sqlite", { wsLimits: { framesPerSecond: 1, frameBurst: 30, maxBatch: 20 }, api: testLimits() });
    try {
      const user = await signUpAndLogIn(server);
      const raw = answerPings(await rawSocket(server, { token: user.accessToken }));
      // connectionParams, then 20 calls: 21 of 30.
      raw.send(Array.from({ length: 20 }, (_, i) => authMe(i + 1)));
      await raw.waitFor(hasId(20));
      // 10 more would fit in the burst; 20 do not.
      raw.send(Array.from({ length: 20 }, (_, i) => authMe(i + 21)));
      expect(await closedWithin(raw, 3_000)).toEqual({ code: 1008, reason: "too many messages" });
      expect(raw.frames.filter((f) => typeof f === "object" && f !== null && ((f as { id?: number }).id ?? 0) > 20)).toEqual([]);
    } finally {
      await server.close();
      await server.database.drop();
    }
  });
});
