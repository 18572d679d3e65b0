// The fixture every fuzz property runs against: one real server with a few users, conversations
// and messages, a pool of good and bad tokens, and the means to tell whether the server is still
// alive and whether any row changed.
import { randomUUID } from "node:crypto";
import { defaultApiConfig } from "@parley/api";
import jwt from "jsonwebtoken";
import WebSocket from "ws";
import { createLogger, type Logger } from "../../src/index.js";
import { httpClient, signUpAndLogIn, startTestServer, TEST_JWT_SECRET, type Provider, type TestServer } from "../harness.js";

export const PASSWORD = "correct horse battery";

export interface Account {
  id: string;
  username: string;
  accessToken: string;
  sessionId: string;
}

/** A token a caller may present; `owner` is set only for a token that authenticates. */
export interface TokenChoice {
  label: string;
  token: string | undefined;
  owner: Account | null;
}

export interface SeedConversation {
  id: string;
  memberIds: string[];
}

export interface Counts {
  users: number;
  conversations: number;
  members: number;
  messages: number;
  sessions: number;
  refreshTokens: number;
  revokedSessions: number;
  usedRefreshTokens: number;
}

export interface FuzzWorld {
  provider: Provider;
  server: TestServer;
  /** alice, bob and carol. alice+bob, alice+carol and bob+carol have direct conversations; all three share a group. */
  users: Account[];
  conversations: SeedConversation[];
  /** Ids that look real but name nothing. */
  ghostIds: string[];
  messageIds: string[];
  /** Per user id: a clientMessageId already stored, so resending with it stores nothing. */
  usedClientMessageIds: Map<string, string>;
  /** Every username in the database (lower case), kept up to date by the properties that add users. */
  takenUsernames: Set<string>;
  /** Access tokens for Authorization headers and connectionParams, good and bad. */
  accessTokens: TokenChoice[];
  /** Strings to present as refresh tokens: none of them may rotate or revoke a live session. */
  refreshTokens: string[];
  /** Causes of internal errors the server logged, in order. */
  internalErrors: string[];
  wsUrl: string;
  counts(): Promise<Counts>;
  /**
   * Shuts the server down and drops its database. Null when the server's close() finished within
   * `ms`; otherwise what was still open (the database is dropped all the same).
   */
  closeWithin(ms: number): Promise<string | null>;
  /** Null when the server answers /healthz with 200 and a WebSocket call with its result; else why not. */
  health(options?: { websocket?: boolean }): Promise<string | null>;
}

const OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-9876543210";

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function claimsOf(token: string): { sid: string; sub: string } {
  const payload = jwt.decode(token);
  if (!payload || typeof payload === "string" || typeof payload.sub !== "string" || typeof payload.sid !== "string") {
    throw new Error("unexpected access token");
  }
  return { sid: payload.sid, sub: payload.sub };
}

/** A logger that keeps internal errors, so an error hidden inside a stream or a frame is still seen. */
function recordingLogger(errors: string[]): Logger {
  return createLogger("error", (line) => {
    const entry = JSON.parse(line) as { msg: string; path?: string; err?: { type?: string; message?: string } };
    errors.push(`${entry.msg}: ${entry.path ?? ""} ${entry.err ? `${entry.err.type}: ${entry.err.message}` : ""}`.trim());
  });
}

export async function createWorld(provider: Provider): Promise<FuzzWorld> {
  const internalErrors: string[] = [];
  const server = await startTestServer(provider, {
    logger: recordingLogger(internalErrors),
    // Long enough for the longest fuzz run: a token that expires midway would turn every valid call into UNAUTHORIZED.
    // Creation limits out of the way: the fuzzer creates groups far faster than a person would.
    api: {
      accessTtlSeconds: 6 * 60 * 60,
      limits: {
        ...defaultApiConfig.limits,
        conversationsPerUser: { max: 1_000_000, windowSeconds: 60 },
        conversationMembersPerUser: { max: 1_000_000, windowSeconds: 60 },
      },
    },
  });
  const signedIn = [];
  for (const name of ["alice", "bob", "carol"]) signedIn.push(await signUpAndLogIn(server, name, PASSWORD));
  const [alice, bob, carol] = signedIn;
  if (!alice || !bob || !carol) throw new Error("setup failed");
  const users: Account[] = signedIn.map((u) => ({ id: u.id, username: u.username, accessToken: u.accessToken, sessionId: claimsOf(u.accessToken).sid }));

  const conversations: SeedConversation[] = [];
  for (const [creator, other] of [
    [alice, bob],
    [alice, carol],
    [bob, carol],
  ] as const) {
    const c = await creator.api.conversation.create.mutate({ memberIds: [other.id] });
    conversations.push({ id: c.id, memberIds: [creator.id, other.id] });
  }
  const group = await alice.api.conversation.create.mutate({ title: "Team", memberIds: [bob.id, carol.id] });
  conversations.push({ id: group.id, memberIds: [alice.id, bob.id, carol.id] });

  const usedClientMessageIds = new Map<string, string>();
  const messageIds: string[] = [];
  for (const user of signedIn) {
    const where = conversations.find((c) => c.memberIds.includes(user.id));
    if (!where) throw new Error("setup failed");
    const clientMessageId = `seed-${user.username}`;
    const message = await user.api.message.send.mutate({ conversationId: where.id, content: `hello from ${user.username}`, clientMessageId });
    usedClientMessageIds.set(user.id, clientMessageId);
    messageIds.push(message.id);
  }

  // A session that has been logged out: its tokens must be refused everywhere.
  const anon = httpClient(server);
  const revoked = await anon.auth.login.mutate({ username: "alice", password: PASSWORD });
  await anon.auth.logout.mutate({ refreshToken: revoked.refreshToken });

  const aliceAccount = users[0];
  if (!aliceAccount) throw new Error("setup failed");
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: object, secret: string, options: jwt.SignOptions) => jwt.sign(claims, secret, options);
  const aliceClaims = { sid: aliceAccount.sessionId, iat: now, exp: now + 3600 };
  const access = { algorithm: "HS256", issuer: "parley", audience: "parley:access", subject: aliceAccount.id } as const;
  const [header, , signature] = aliceAccount.accessToken.split(".");
  const bobPayload = base64url({ ...aliceClaims, sub: bob.id, aud: "parley:access", iss: "parley" });

  const bad = (label: string, token: string | undefined): TokenChoice => ({ label, token, owner: null });
  const accessTokens: TokenChoice[] = [
    ...users.map((u) => ({ label: `valid:${u.username}`, token: u.accessToken, owner: u })),
    bad("none", undefined),
    bad("empty", ""),
    bad("garbage", "not-a-token"),
    bad("three dots", "a.b.c"),
    bad("too long", "a".repeat(5000)),
    bad("alg none", `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ ...aliceClaims, sub: aliceAccount.id, aud: "parley:access", iss: "parley" })}.`),
    bad("other key", sign(aliceClaims, OTHER_SECRET, access)),
    bad("HS512", sign(aliceClaims, TEST_JWT_SECRET, { ...access, algorithm: "HS512" })),
    bad("expired", sign({ ...aliceClaims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET, access)),
    bad("not yet valid", sign({ ...aliceClaims, nbf: now + 3600 }, TEST_JWT_SECRET, access)),
    bad("wrong issuer", sign(aliceClaims, TEST_JWT_SECRET, { ...access, issuer: "someone-else" })),
    bad("wrong audience", sign(aliceClaims, TEST_JWT_SECRET, { ...access, audience: "parley:refresh" })),
    bad("refresh token as access token", revoked.refreshToken),
    bad("signature of another payload", `${header}.${bobPayload}.${signature}`),
    bad("truncated", aliceAccount.accessToken.slice(0, -2)),
    bad("revoked session", revoked.accessToken),
  ];
  // Never a live refresh token: presenting one would rotate it, and presenting a forged one with a
  // live session id would revoke that session.
  const refreshTokens = [
    revoked.refreshToken,
    aliceAccount.accessToken,
    sign({ sid: "no-such-session", iat: now, exp: now + 3600 }, OTHER_SECRET, { ...access, audience: "parley:refresh", jwtid: randomUUID() }),
    sign({ sid: aliceAccount.sessionId, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET, { ...access, audience: "parley:refresh", jwtid: randomUUID() }),
    `${base64url({ alg: "none" })}.${base64url({ sid: aliceAccount.sessionId, sub: aliceAccount.id, aud: "parley:refresh", iss: "parley", jti: "x" })}.`,
    "garbage",
    "a.b.c",
  ];

  const prisma = server.services.db.prisma;
  const wsUrl = `ws://127.0.0.1:${server.port}/trpc`;
  const world: FuzzWorld = {
    provider,
    server,
    users,
    conversations,
    ghostIds: ["cm000000000000000000ghost", "ghost", randomUUID(), "0", "1"],
    messageIds,
    usedClientMessageIds,
    takenUsernames: new Set(users.map((u) => u.username)),
    accessTokens,
    refreshTokens,
    internalErrors,
    wsUrl,
    async counts() {
      const [users, conversations, members, messages, sessions, refreshTokens, revokedSessions, usedRefreshTokens] = await Promise.all([
        prisma.user.count(),
        prisma.conversation.count(),
        prisma.conversationMember.count(),
        prisma.message.count(),
        prisma.session.count(),
        prisma.refreshToken.count(),
        prisma.session.count({ where: { revokedAt: { not: null } } }),
        prisma.refreshToken.count({ where: { usedAt: { not: null } } }),
      ]);
      return { users, conversations, members, messages, sessions, refreshTokens, revokedSessions, usedRefreshTokens };
    },
    async health(options = {}) {
      try {
        const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        const body = await response.text();
        if (response.status !== 200) return `/healthz answered ${response.status}: ${body.slice(0, 200)}`;
      } catch (error) {
        return `/healthz failed: ${String(error)}`;
      }
      if (options.websocket) return probeWebSocket(wsUrl, aliceAccount);
      return null;
    },
    async closeWithin(ms) {
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([server.close().then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
      clearTimeout(timer);
      const left = closed ? null : process.getActiveResourcesInfo().filter((r) => r !== "Timeout").join(", ") || "nothing";
      await server.database.drop().catch(() => undefined);
      return left;
    },
  };
  return world;
}

/** A well-behaved client on a fresh connection: authenticates, asks auth.me, expects its own id. */
function probeWebSocket(url: string, account: Account): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url}?connectionParams=1`);
    const done = (result: string | null) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(result);
    };
    const timer = setTimeout(() => done("a WebSocket call got no answer within 5 s"), 5_000);
    socket.on("error", (error) => done(`WebSocket probe failed: ${error.message}`));
    socket.on("open", () => {
      socket.send(JSON.stringify({ method: "connectionParams", data: { token: account.accessToken } }));
      socket.send(JSON.stringify({ id: 1, method: "query", params: { path: "auth.me" } }));
    });
    socket.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text === "PING") return;
      done(text.includes(`"id":"${account.id}"`) ? null : `WebSocket probe got ${text.slice(0, 200)}`);
    });
    socket.on("close", (code) => done(`WebSocket probe closed with ${code}`));
  });
}

export function diffCounts(before: Counts, after: Counts): string | null {
  const changed = (Object.keys(before) as (keyof Counts)[]).filter((key) => before[key] !== after[key]);
  return changed.length === 0 ? null : changed.map((key) => `${key} ${before[key]} -> ${after[key]}`).join(", ");
}
