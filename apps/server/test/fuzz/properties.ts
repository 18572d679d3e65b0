// The fuzz properties, in the order they run: the same ones run a few hundred inputs in `pnpm test`
// (fuzz.test.ts) and ten thousand or more in `pnpm fuzz` (run.ts). This file holds the two that
// check rights and stored rows; the HTTP and WebSocket ones have files of their own.
import fc from "fast-check";
import { boundaryString, generatorOf, hostileString, hostileUnit, PROCEDURES, type Json, type ProcedurePath } from "./arbitraries.js";
import { codePoints, isStorable } from "./neutralize.js";
import { describeRequest, sendHttp, type Finding, type Frame, type HttpAnswer, type HttpRequest, type WsSession } from "./transport.js";
import { diffCounts, type Account, type FuzzWorld } from "./world.js";
import { httpBatch, httpOversized, httpProcedures, httpRaw } from "./http-properties.js";
import { defineProperty, encodeLoose, judgeHttp, type FuzzProperty } from "./property.js";
import { expectations, isObj, runSession, wsProcedures, wsRaw, wsShapes } from "./ws-properties.js";

// ---------------------------------------------------------------------------------------------
// Valid calls without the right to make them

/** Every procedure that wants a valid token, and the two public ones that take a refresh token instead. */
const UNAUTHORIZED_PATHS: ProcedurePath[] = [...PROCEDURES.filter((p) => generatorOf(p.path)?.public !== true).map((p) => p.path), "auth.refresh", "auth.logout"];

interface Unauthorized {
  transport: "http" | "ws";
  path: ProcedurePath;
  token: number;
  /** Use a seed user's valid token on a conversation that user is not in, instead of a bad token. */
  outsider: number | null;
  content: string;
  title: string;
  refreshToken: string;
}

function unauthorizedCall(world: FuzzWorld, u: Unauthorized): { token: string | undefined; input: Json | undefined; expected: string[] } {
  const badTokens = world.accessTokens.filter((t) => !t.owner);
  const bad = badTokens[u.token % badTokens.length];
  const outsider = u.outsider === null ? undefined : world.users[u.outsider % world.users.length];
  const foreign = outsider && world.conversations.find((c) => !c.memberIds.includes(outsider.id));
  const asOutsider = outsider !== undefined && foreign !== undefined && (u.path === "message.send" || u.path === "message.list" || u.path === "message.search" || u.path === "typing.set");
  const token = asOutsider ? outsider.accessToken : bad?.token;
  const conversationId = (asOutsider ? foreign.id : world.conversations[0]?.id) ?? "";
  const expected = asOutsider ? ["FORBIDDEN"] : ["UNAUTHORIZED"];
  const users = world.users.map((x) => x.id);
  switch (u.path) {
    case "message.send":
      return { token, input: { conversationId, content: u.content, clientMessageId: `unauthorized-${u.content.length}-${u.token}` }, expected };
    case "message.list":
      // around a message: the same membership check as without it.
      return { token, input: u.token % 2 === 0 ? { conversationId } : { conversationId, around: world.messageIds[0] ?? "1" }, expected };
    case "message.search":
      return { token, input: { query: "a", conversationId }, expected };
    case "conversation.create":
      return { token, input: { title: u.title, memberIds: users }, expected };
    case "auth.refresh":
      return { token: undefined, input: { refreshToken: u.refreshToken }, expected: ["UNAUTHORIZED"] };
    case "auth.logout":
      // Logging out a session that is already logged out is idempotent: {"ok":true}, nothing changes.
      return { token: undefined, input: { refreshToken: u.refreshToken }, expected: ["UNAUTHORIZED", "ok"] };
    case "conversation.get":
      return { token, input: { conversationId }, expected };
    case "user.search":
      return { token, input: { query: u.title.slice(0, 32) || "a" }, expected };
    case "conversation.addMembers":
      return { token, input: { conversationId, userIds: users }, expected };
    case "conversation.removeMember":
      return { token, input: { conversationId, userId: users[0] ?? "" }, expected };
    case "conversation.leave":
      return { token, input: { conversationId }, expected };
    case "conversation.rename":
      return { token, input: { conversationId, title: u.title }, expected };
    case "conversation.markRead":
      return { token, input: { conversationId, messageId: world.messageIds[0] ?? "1" }, expected };
    case "message.edit":
      return { token, input: { messageId: world.messageIds[0] ?? "1", content: u.content }, expected };
    case "message.delete":
      return { token, input: { messageId: world.messageIds[0] ?? "1" }, expected };
    case "message.react":
      return { token, input: { messageId: world.messageIds[0] ?? "1", emoji: "👍", on: true }, expected };
    case "conversation.setNotify":
      return { token, input: { conversationId, level: "none" }, expected };
    case "typing.set":
      return { token, input: { conversationId }, expected };
    case "presence.set":
      return { token, input: { status: "away" }, expected };
    case "user.presence":
      return { token, input: { userIds: users }, expected };
    case "file.urls":
      return { token, input: { attachmentIds: ["c0000000000000000000000000"] }, expected };
    // Admin procedures: a bad token, or a valid one of a user who is not an admin (bob, carol: alice,
    // the first account, is the admin) - refused before the input is read.
    case "admin.users":
    case "admin.setAdmin":
    case "admin.deactivate":
    case "admin.reactivate":
    case "admin.createInvite":
    case "admin.invites":
    case "admin.revokeInvite":
    case "admin.settings":
    case "admin.health":
    case "admin.setSignupMode":
    case "admin.auditLog": {
      const nonAdmin = u.outsider === null ? undefined : world.users.slice(1)[u.outsider % (world.users.length - 1)];
      let input: Json | undefined;
      if (u.path === "admin.deactivate" || u.path === "admin.reactivate") input = { userId: users[0] ?? "" };
      else if (u.path === "admin.setSignupMode") input = { mode: "closed" };
      return nonAdmin ? { token: nonAdmin.accessToken, input, expected: ["FORBIDDEN"] } : { token: bad?.token, input, expected: ["UNAUTHORIZED"] };
    }
    // Procedures without input (or with only optional paging): only the token is wrong.
    case "auth.me":
    case "auth.role":
    case "conversation.list":
    case "message.live":
    case "sync.events":
    case "user.list":
      return { token, input: undefined, expected };
    // Public: never drawn here (UNAUTHORIZED_PATHS leaves them out), listed so a new path is a type error.
    case "auth.signup":
    case "auth.login":
    case "auth.signupInfo":
      return { token, input: undefined, expected };
  }
}

const unauthorized = defineProperty<Unauthorized>({
  name: "valid calls with a missing, forged, expired or revoked token, or from a non-member, are refused and change nothing",
  weight: 8,
  probeWebSocket: true,
  arbitrary: (world) =>
    fc.record({
      transport: fc.constantFrom("http", "ws"),
      path: fc.constantFrom(...UNAUTHORIZED_PATHS),
      token: fc.nat({ max: 100 }),
      outsider: fc.option(fc.nat({ max: 2 }), { nil: null }),
      content: fc.string({ unit: hostileUnit, minLength: 1, maxLength: 50 }).filter((s) => s.trim() !== ""),
      title: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== ""),
      refreshToken: fc.constantFrom(...world.refreshTokens),
    }),
  async run(world, u) {
    const { token, input, expected } = unauthorizedCall(world, u);
    const type = PROCEDURES.find((p) => p.path === u.path)?.type ?? "query";
    if (u.transport === "ws") {
      const frames: Frame[] = [
        { text: JSON.stringify({ method: "connectionParams", data: token === undefined ? {} : { token } }) },
        { text: JSON.stringify({ id: 1, method: type, params: { path: u.path, ...(input === undefined ? {} : { input }) } }) },
      ];
      const session: WsSession = { query: "?connectionParams=1", frames, ...expectations(frames, true) };
      const { findings, sent, outcome } = await runSession(world, session);
      const answer = outcome.received.find((f) => f.includes('"id":1'));
      if (answer && !expected.some((code) => answer.includes(code === "ok" ? '"data":{"ok":true}' : `"code":"${code}"`))) {
        findings.push({ kind: "authz", detail: `${u.path} over WebSocket answered ${answer.slice(0, 200)}; expected ${expected.join(" or ")}` });
      }
      return { findings, sent };
    }
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const body = input === undefined ? undefined : JSON.stringify(input);
    const request: HttpRequest =
      type === "mutation"
        ? { method: "POST", target: `/trpc/${u.path}`, headers: { ...headers, "content-type": "application/json" }, ...(body ? { body: Buffer.from(body) } : {}) }
        : { method: "GET", target: `/trpc/${u.path}${body ? `?input=${encodeLoose(body)}` : ""}`, headers };
    const sent = describeRequest(request);
    const answer = await sendHttp(world.server.url, request);
    const findings = judgeHttp(u.path, answer, sent);
    // Subscriptions are served over the WebSocket only: over HTTP they are refused whoever asks.
    if (type === "subscription") {
      if (!("status" in answer) || answer.status !== 405) findings.push({ kind: "authz", detail: `${u.path} over HTTP was not refused with 405: ${JSON.stringify(answer).slice(0, 200)}` });
      return { findings, sent };
    }
    if ("status" in answer && !expected.some((code) => answer.body.includes(code === "ok" ? '"data":{"ok":true}' : `"code":"${code}"`))) {
      findings.push({ kind: "authz", detail: `${u.path} over HTTP answered ${answer.status} ${answer.body.slice(0, 200)}; expected ${expected.join(" or ")}` });
    }
    return { findings, sent };
  },
});

// ---------------------------------------------------------------------------------------------
// Valid writes with hostile content: stored exactly, exactly once

type ValidWrite =
  | { kind: "send"; user: number; conversation: number; content: string; suffix: string }
  | { kind: "group"; user: number; title: string }
  | { kind: "signup"; password: string; fullName: string; name: string };

let writeCounter = 0;

const hostileTextUpTo = (max: number) =>
  fc
    .oneof(fc.string({ unit: hostileUnit, minLength: 1, maxLength: Math.min(max, 60) }), boundaryString, hostileString)
    .filter((s) => codePoints(s.trim()) >= 1 && codePoints(s) <= max);

// The text rules (issue 10, finding 9), restated as the oracle: names and titles are NFC, trimmed,
// and refuse format, control and line/paragraph-separator characters and invisible-only text;
// message content is NFC and must show something (format characters count as white space).
const DECEIVING = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/u;
const BLANK = /^[\s\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\u2800]*$/u;

/** What a name or title is stored as, or null when the server must refuse it. */
function storedDisplayText(text: string, max: number): string | null {
  if (!isStorable(text)) return null;
  const stored = text.normalize("NFC").trim();
  if (stored.length > max || DECEIVING.test(stored) || (stored !== "" && BLANK.test(stored))) return null;
  return stored;
}

/** What message content is stored as, or null when the server must refuse it. */
function storedContent(text: string): string | null {
  if (!isStorable(text)) return null;
  const stored = text.normalize("NFC");
  return stored.length >= 1 && stored.length <= 4000 && !BLANK.test(stored) ? stored : null;
}

async function postJson(world: FuzzWorld, path: string, input: Json, token?: string): Promise<{ answer: HttpAnswer; sent: string }> {
  const request: HttpRequest = {
    method: "POST",
    target: `/trpc/${path}`,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: Buffer.from(JSON.stringify(input)),
  };
  const sent = describeRequest(request);
  return { answer: await sendHttp(world.server.url, request), sent };
}

function dataOf(answer: HttpAnswer): Record<string, unknown> | null {
  if (!("status" in answer) || answer.status !== 200) return null;
  const parsed: unknown = JSON.parse(answer.body);
  if (!isObj(parsed) || !isObj(parsed.result) || !isObj(parsed.result.data)) return null;
  return parsed.result.data;
}

const validWrites = defineProperty<ValidWrite>({
  name: "writes with hostile text (unicode, quotes, SQL, prototype keys) are stored once, in NFC; NUL, unpaired surrogates, invisible-only text and format characters in names are refused",
  weight: 4,
  maxRuns: 600,
  writes: true,
  arbitrary: (world) =>
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("send" as const),
          user: fc.nat({ max: world.users.length - 1 }),
          conversation: fc.nat({ max: 100 }),
          content: hostileTextUpTo(4000),
          suffix: fc.string({ unit: hostileUnit, maxLength: 40 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("group" as const), user: fc.nat({ max: world.users.length - 1 }), title: hostileTextUpTo(100) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("signup" as const),
          password: fc.oneof(fc.string({ unit: hostileUnit, minLength: 8, maxLength: 128 }), boundaryString).filter((s) => codePoints(s) >= 8 && codePoints(s) <= 128),
          fullName: fc.oneof(fc.constant(""), hostileTextUpTo(100)),
          name: fc.stringMatching(/^[a-zA-Z0-9_.-]{0,20}$/),
        }),
      },
    ),
  async run(world, write) {
    const before = await world.counts();
    const findings: Finding[] = [];
    let sent = "";
    /** Text the server must refuse (BAD_REQUEST) rather than store. */
    const expectRefused = async (what: string, answer: HttpAnswer) => {
      if ("status" in answer && answer.status !== 400) {
        findings.push({ kind: "status", detail: `${what} with unstorable text answered ${answer.status}, not 400: ${answer.body.slice(0, 200)}` });
      }
      await expectChange({});
    };
    const expectChange = async (expected: Partial<Record<keyof typeof before, number>>) => {
      const after = await world.counts();
      const wanted = { ...before };
      for (const [key, delta] of Object.entries(expected) as [keyof typeof before, number][]) wanted[key] += delta;
      const diff = diffCounts(wanted, after);
      if (diff) findings.push({ kind: "data", detail: `expected ${JSON.stringify(expected)}, rows differ from that: ${diff}` });
    };
    if (write.kind === "send") {
      const user = world.users[write.user] as Account;
      const mine = world.conversations.filter((c) => c.memberIds.includes(user.id));
      const conversation = mine[write.conversation % mine.length];
      if (!conversation) throw new Error("seed user without a conversation");
      writeCounter += 1;
      const clientMessageId = `w${writeCounter}-${write.suffix}`.slice(0, 64);
      const result = await postJson(world, "message.send", { conversationId: conversation.id, content: write.content, clientMessageId }, user.accessToken);
      sent = result.sent;
      findings.push(...judgeHttp("message.send", result.answer, sent));
      const stored = dataOf(result.answer);
      const content = storedContent(write.content);
      if (content === null || !isStorable(clientMessageId)) {
        await expectRefused("message.send", result.answer);
      } else if (stored) {
        if (stored.content !== content || stored.clientMessageId !== clientMessageId) {
          findings.push({ kind: "data", detail: `message.send stored ${JSON.stringify(stored).slice(0, 300)}` });
        }
        await expectChange({ messages: 1 });
      } else if ("status" in result.answer && result.answer.status === 429) {
        await expectChange({});
      } else if ("status" in result.answer && result.answer.status < 500) {
        findings.push({ kind: "status", detail: `a valid message.send was refused: ${result.answer.status} ${result.answer.body.slice(0, 200)}` });
      }
    } else if (write.kind === "group") {
      const user = world.users[write.user] as Account;
      const result = await postJson(world, "conversation.create", { title: write.title, memberIds: world.users.map((u) => u.id) }, user.accessToken);
      sent = result.sent;
      findings.push(...judgeHttp("conversation.create", result.answer, sent));
      const created = dataOf(result.answer);
      const title = storedDisplayText(write.title, 100);
      if (title === null) {
        await expectRefused("conversation.create", result.answer);
      } else if (created) {
        if (created.title !== (title === "" ? null : title)) findings.push({ kind: "data", detail: `conversation.create stored title ${JSON.stringify(created.title)}` });
        await expectChange({ conversations: 1, members: world.users.length });
      } else if ("status" in result.answer && result.answer.status === 429) {
        await expectChange({});
      } else if ("status" in result.answer && result.answer.status < 500) {
        findings.push({ kind: "status", detail: `a valid conversation.create was refused: ${result.answer.status} ${result.answer.body.slice(0, 200)}` });
      }
    } else {
      writeCounter += 1;
      const username = `w${writeCounter}_${write.name}`.slice(0, 32);
      const signup = await postJson(world, "auth.signup", { username, password: write.password, fullName: write.fullName });
      sent = signup.sent;
      findings.push(...judgeHttp("auth.signup", signup.answer, sent));
      const user = dataOf(signup.answer);
      const fullName = storedDisplayText(write.fullName, 100);
      if (!isStorable(write.password) || fullName === null) {
        await expectRefused("auth.signup", signup.answer);
      } else if (user) {
        world.takenUsernames.add(username.toLowerCase());
        if (user.username !== username.toLowerCase() || user.fullName !== fullName) {
          findings.push({ kind: "data", detail: `auth.signup stored ${JSON.stringify(user).slice(0, 300)}` });
        }
        // Either spelling logs in. The fuzzing before this has usually used up this address's failed
        // logins, so TOO_MANY_REQUESTS is an answer too.
        const login = await postJson(world, "auth.login", { username: username.toUpperCase(), password: write.password });
        findings.push(...judgeHttp("auth.login", login.answer, login.sent));
        if (dataOf(login.answer)) await expectChange({ users: 1, sessions: 1, refreshTokens: 1 });
        else if ("status" in login.answer && login.answer.status === 429) await expectChange({ users: 1 });
        else {
          const why = "status" in login.answer ? login.answer.body.slice(0, 200) : login.answer.error;
          findings.push({ kind: "status", detail: `the new user could not log in: ${why}` });
        }
      } else if ("status" in signup.answer && signup.answer.status !== 429 && signup.answer.status < 500) {
        findings.push({ kind: "status", detail: `a valid signup was refused: ${signup.answer.status} ${signup.answer.body.slice(0, 200)}` });
      }
    }
    return { findings, sent };
  },
});

/** In the order they run: the property that stores rows last, so that the others see the seed data only. */
export const PROPERTIES: readonly FuzzProperty[] = [httpProcedures, httpRaw, httpBatch, httpOversized, wsProcedures, wsRaw, wsShapes, unauthorized, validWrites];
