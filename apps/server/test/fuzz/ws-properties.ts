// WebSocket properties: every procedure over a tRPC connection, and raw frames of every kind; what
// the server must answer to each frame, or else close the connection.
import fc from "fast-check";
import { defaultApiConfig } from "@parley/api";
import { defaultWsLimits } from "../../src/ws-guard.js";
import {
  anyInput,
  bogusPath,
  hostileKey,
  hostileLeaf,
  hostileUnit,
  hostileValue,
  inputFor,
  objectOf,
  PROCEDURES,
  toJsonText,
  type Json,
  type Procedure,
} from "./arbitraries.js";
import { neutralize } from "./neutralize.js";
import { describeSession, inspect, runWsSession, type Finding, type Frame, type WsOutcome, type WsSession } from "./transport.js";
import type { Account, FuzzWorld } from "./world.js";
import { defineProperty, tokenAt, tokenIndex } from "./property.js";

// ---------------------------------------------------------------------------------------------
// WebSocket: what the server must answer

export function isObj(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** tRPC's own rules for a request message (parseTRPCMessage). */
function isRequestMessage(message: unknown): boolean {
  if (!isObj(message)) return false;
  const { id, jsonrpc, method, params } = message;
  if (!(id === null || typeof id === "string" || (typeof id === "number" && !Number.isNaN(id)))) return false;
  if (jsonrpc !== undefined && jsonrpc !== "2.0") return false;
  if (method === "subscription.stop") return true;
  if (method !== "query" && method !== "mutation" && method !== "subscription") return false;
  if (!isObj(params) || typeof params.path !== "string") return false;
  return params.lastEventId === undefined || typeof params.lastEventId === "string";
}

const utf8 = new TextDecoder("utf-8");

/** What a session must draw from the server: an answer per request id, an error per malformed frame, a PONG per PING. */
export function expectations(frames: Frame[], withParams: boolean): Pick<WsSession, "expectedIds" | "expectedNullErrors" | "expectedPongs"> {
  const result = { expectedIds: [] as (string | number)[], expectedNullErrors: 0, expectedPongs: 0 };
  let paramsPending = withParams;
  for (const sent of frames) {
    let frame: Frame = sent;
    if ("rawText" in sent) {
      const text = utf8.decode(sent.rawText, { stream: false });
      if (!Buffer.from(text).equals(sent.rawText)) {
        // Not UTF-8: the WebSocket layer must close the connection (1007) before tRPC sees it.
        result.expectedNullErrors += 1;
        continue;
      }
      frame = { text };
    }
    if ("text" in frame && frame.text === "PING") {
      result.expectedPongs += 1;
      continue;
    }
    if ("text" in frame && frame.text === "PONG") continue;
    if (paramsPending) {
      // The first other frame is the connection parameters: accepted silently, or refused with an error and a close.
      paramsPending = false;
      continue;
    }
    if (!("text" in frame)) {
      result.expectedNullErrors += 1;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame.text);
    } catch {
      result.expectedNullErrors += 1;
      continue;
    }
    const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    if (!messages.every(isRequestMessage)) {
      result.expectedNullErrors += 1;
      continue;
    }
    for (const message of messages) {
      if (!isObj(message) || message.method === "subscription.stop") continue;
      const id = message.id;
      if (id === null) result.expectedNullErrors += 1;
      else if (typeof id === "string" || typeof id === "number") result.expectedIds.push(id);
    }
  }
  return result;
}

export async function runSession(world: FuzzWorld, session: WsSession): Promise<{ findings: Finding[]; sent: string; outcome: WsOutcome }> {
  const sent = describeSession(session);
  const outcome = await runWsSession(world.wsUrl, session);
  const findings: Finding[] = [];
  for (const frame of outcome.received) findings.push(...inspect("ws frame", frame, sent));
  if (outcome.refusedWith !== null && outcome.refusedWith >= 500) findings.push({ kind: "5xx", detail: `upgrade refused with ${outcome.refusedWith}` });
  if (outcome.error) findings.push({ kind: "hang", detail: `WebSocket error: ${outcome.error}` });
  if (outcome.missing) findings.push({ kind: "hang", detail: `no answer and no close: missing ${outcome.missing}` });
  if (outcome.closeCode === 1011) findings.push({ kind: "5xx", detail: "closed with 1011 (internal error)" });
  return { findings, sent, outcome };
}

/** Serializes a tRPC-shaped message, making its input harmless for the caller first. */
export function requestText(world: FuzzWorld, message: Json, caller: Account | null): string {
  const fix = (m: Json): Json => {
    if (!isObj(m) || !isObj(m.params)) return m;
    const params = m.params as { [key: string]: Json };
    const input = neutralize(world, params.path, params.input, caller);
    const otherParams = Object.entries(params).filter(([k]) => k !== "input");
    const newParams = objectOf(input === undefined ? otherParams : [...otherParams, ["input", input]]);
    return objectOf([...Object.entries(m), ["params", newParams]]);
  };
  return toJsonText(Array.isArray(message) ? message.map(fix) : fix(message)) ?? "null";
}

// ---------------------------------------------------------------------------------------------
// WebSocket: every procedure

interface WsCall {
  procedure: Procedure;
  input: Json | undefined;
  token: number;
  params: "frame" | "none" | "garbage";
  garbageParams: Json;
  id: Json;
  method: "right" | "query" | "mutation" | "subscription";
  lastEventId: Json | undefined;
}

const requestId: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 1000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, 1e308, Number.MAX_VALUE, "", "1", "__proto__", "x".repeat(2000)) },
  { weight: 1, arbitrary: hostileLeaf },
);

export const wsProcedures = defineProperty<WsCall>({
  name: "WebSocket: every procedure with random and malformed input, tokens and connection params",
  weight: 20,
  probeWebSocket: true,
  arbitrary: (world) =>
    fc.constantFrom(...PROCEDURES).chain((procedure) =>
      fc.record({
        procedure: fc.constant(procedure),
        input: inputFor(world, procedure.path),
        token: tokenIndex(world),
        params: fc.constantFrom("frame", "frame", "frame", "none", "garbage"),
        garbageParams: hostileValue,
        id: requestId,
        method: fc.constantFrom("right", "right", "right", "query", "mutation", "subscription"),
        lastEventId: fc.option(fc.oneof(fc.constantFrom(...world.messageIds), hostileLeaf), { freq: 5, nil: undefined }),
      }),
    ),
  async run(world, call) {
    const choice = tokenAt(world, call.token);
    const caller = call.params === "frame" ? choice.owner : null;
    const frames: Frame[] = [];
    if (call.params === "frame") frames.push({ text: JSON.stringify({ method: "connectionParams", data: choice.token === undefined ? {} : { token: choice.token } }) });
    if (call.params === "garbage") frames.push({ text: toJsonText(objectOf([["method", "connectionParams"], ["data", call.garbageParams]])) ?? "null" });
    const params = objectOf([
      ["path", call.procedure.path],
      ...(call.input === undefined ? [] : [["input", call.input] as [string, Json]]),
      ...(call.lastEventId === undefined ? [] : [["lastEventId", call.lastEventId] as [string, Json]]),
    ]);
    const method = call.method === "right" ? call.procedure.type : call.method;
    frames.push({ text: requestText(world, objectOf([["id", call.id], ["method", method], ["params", params]]), caller) });
    const withParams = call.params !== "none";
    const session: WsSession = { query: withParams ? "?connectionParams=1" : "", frames, ...expectations(frames, withParams) };
    return runSession(world, session);
  },
});

// ---------------------------------------------------------------------------------------------
// WebSocket: raw frames

type FrameSpec =
  | { kind: "message"; value: Json }
  | { kind: "batch"; values: Json[] }
  | { kind: "params"; data: Json | undefined }
  | { kind: "json"; value: Json }
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array }
  /** Bytes sent as a text frame: not necessarily UTF-8. */
  | { kind: "bytesAsText"; bytes: Uint8Array }
  | { kind: "huge"; bytes: number };

interface WsRaw {
  query: string;
  origin: string | undefined;
  token: number;
  frames: FrameSpec[];
  flood: number;
}

function trpcishMessage(world: FuzzWorld): fc.Arbitrary<Json> {
  const params = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...PROCEDURES).chain((p) =>
        fc.record(
          {
            path: fc.oneof({ weight: 4, arbitrary: fc.constant<Json>(p.path) }, { weight: 1, arbitrary: bogusPath }, { weight: 1, arbitrary: hostileLeaf }),
            input: inputFor(world, p.path).map((v) => v ?? null),
            lastEventId: hostileLeaf,
          },
          { requiredKeys: ["path"] },
        ),
      ),
    },
    { weight: 1, arbitrary: hostileValue },
  );
  const fields = fc.record(
    {
      id: requestId,
      jsonrpc: fc.constantFrom<Json>("2.0", "1.0", 2, null),
      method: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom<Json>("query", "mutation", "subscription") },
        { weight: 2, arbitrary: fc.constantFrom<Json>("subscription.stop", "connectionParams", "reconnect", "QUERY", "") },
        { weight: 1, arbitrary: hostileLeaf },
      ),
      params,
    },
    { requiredKeys: ["id", "method", "params"] },
  );
  const extras = fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileValue), { maxLength: 2 }) });
  return fc
    .tuple(fields, extras)
    .map(([m, extra]) => objectOf([...Object.entries(m).filter((entry): entry is [string, Json] => entry[1] !== undefined), ...extra]));
}

function frameSpec(world: FuzzWorld): fc.Arbitrary<FrameSpec> {
  return fc.oneof(
    { weight: 6, arbitrary: trpcishMessage(world).map((value): FrameSpec => ({ kind: "message", value })) },
    { weight: 2, arbitrary: fc.array(trpcishMessage(world), { maxLength: 25 }).map((values): FrameSpec => ({ kind: "batch", values })) },
    { weight: 1, arbitrary: fc.option(hostileValue, { nil: undefined }).map((data): FrameSpec => ({ kind: "params", data })) },
    { weight: 1, arbitrary: anyInput.map((value): FrameSpec => ({ kind: "json", value: value ?? null })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom("", "{", "[", "PING", "PONG", "ping", "null", "[]", "{}", "[[]]", "1e999", "\"\"", '{"id":1,"method":"query","params":{"path":"auth.me"}'),
          fc.string({ unit: hostileUnit, maxLength: 100 }),
        )
        .map((text): FrameSpec => ({ kind: "text", text })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes): FrameSpec => ({ kind: "binary", bytes })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 50 }).map((bytes): FrameSpec => ({ kind: "bytesAsText", bytes })) },
    { weight: 1, arbitrary: fc.integer({ min: 60 * 1024, max: 80 * 1024 }).map((bytes): FrameSpec => ({ kind: "huge", bytes })) },
  );
}

function rawFrames(world: FuzzWorld, raw: WsRaw): Frame[] {
  const choice = tokenAt(world, raw.token);
  // Whoever the first connectionParams frame names: inputs are made harmless for that user.
  const paramsFrame = raw.frames.find((f) => f.kind === "params");
  const caller = raw.query.includes("connectionParams=1") && paramsFrame ? choice.owner : null;
  const frames: Frame[] = raw.frames.map((spec): Frame => {
    switch (spec.kind) {
      case "message":
        return { text: requestText(world, spec.value, caller) };
      case "batch":
        return { text: requestText(world, spec.values, caller) };
      case "params":
        return { text: JSON.stringify({ method: "connectionParams", data: spec.data === undefined ? { token: choice.token ?? null } : spec.data }) };
      case "json":
        return { text: requestText(world, spec.value, caller) };
      case "text":
        return { text: spec.text };
      case "binary":
        return { binary: Buffer.from(spec.bytes) };
      case "bytesAsText":
        return { rawText: Buffer.from(spec.bytes) };
      case "huge":
        return { text: JSON.stringify({ id: 1, method: "query", params: { path: "auth.me", input: "h".repeat(spec.bytes) } }) };
    }
  });
  // A burst past the per-connection frame limit: the server must close, not fall over.
  for (let i = 0; i < raw.flood; i += 1) frames.push({ text: JSON.stringify({ id: 10_000 + i, method: "query", params: { path: "auth.me" } }) });
  return frames;
}

export const wsRaw = defineProperty<WsRaw>({
  name: "WebSocket: raw frames - invalid JSON, wrong shapes, unknown methods, odd ids, batches, binary, oversized, floods",
  weight: 17,
  probeWebSocket: true,
  arbitrary: (world) =>
    fc.record({
      query: fc.constantFrom(
        "", "", "?connectionParams=1", "?connectionParams=1", "?connectionParams=0", "?connectionParams=%7B%7D", "?connectionParams=1&connectionParams=1",
        "?x=%ZZ", "?input=1",
      ),
      origin: fc.constantFrom(undefined, undefined, undefined, "https://evil.example", "null", "http://localhost:5173", "garbage"),
      token: tokenIndex(world),
      frames: fc.array(frameSpec(world), { minLength: 1, maxLength: 8 }),
      flood: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 61, max: 90 }) }),
    }),
  async run(world, raw) {
    const frames = rawFrames(world, raw);
    const withParams = raw.query.includes("connectionParams=1");
    return runSession(world, { query: raw.query, origin: raw.origin, frames, ...expectations(frames, withParams) });
  },
});

// ---------------------------------------------------------------------------------------------
// WebSocket: the shape of frames and batches against the limits (decided on what the server parses)

/** The server's limits this property holds it to: the defaults the fuzz world runs with. */
const MAX_BATCH = defaultWsLimits.maxBatch;
const MAX_SUBSCRIPTIONS = defaultApiConfig.subscriptionsPerConnection;

type Shaped =
  /** Calls in one array, however long: past the cap the connection must close with 1008 and run none. */
  | { kind: "array"; calls: number; subscriptions: boolean }
  /** Arrays inside the array: tRPC refuses the frame, and nothing in it runs. */
  | { kind: "nested"; depth: number; calls: number }
  /** Subscriptions with ids from a small set, and stops of them, over a few frames. */
  | { kind: "mixed"; steps: { stop: boolean; id: number }[]; perFrame: number };

interface WsShapes {
  shape: Shaped;
  /** JSON white space around the frame and inside it. */
  before: string;
  after: string;
  indent: number;
}

const jsonSpace = fc.string({ unit: fc.constantFrom(" ", "\t", "\n", "\r"), maxLength: 6 });

const shaped: fc.Arbitrary<Shaped> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("array" as const),
      calls: fc.oneof(fc.integer({ min: 0, max: MAX_BATCH }), fc.integer({ min: MAX_BATCH + 1, max: MAX_BATCH + 5 }), fc.integer({ min: 100, max: 1_500 })),
      subscriptions: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("nested" as const), depth: fc.integer({ min: 2, max: 4 }), calls: fc.integer({ min: 1, max: 60 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("mixed" as const),
      steps: fc.array(fc.record({ stop: fc.boolean(), id: fc.integer({ min: 1, max: MAX_SUBSCRIPTIONS + 4 }) }), { minLength: 1, maxLength: 40 }),
      perFrame: fc.integer({ min: 1, max: MAX_BATCH }),
    }),
  },
);

const liveCall = (id: number): Json => ({ id, method: "subscription", params: { path: "message.live", input: {} } });
const meCall = (id: number): Json => ({ id, method: "query", params: { path: "auth.me", input: null } });

/** The frames' JSON values, and whether the server must close the connection for a batch past the cap. */
function shapedValues(shape: Shaped): { values: Json[]; overCap: boolean } {
  switch (shape.kind) {
    case "array": {
      const calls = Array.from({ length: shape.calls }, (_, i) => (shape.subscriptions && i % 2 === 0 ? liveCall(i + 1) : meCall(i + 1)));
      return { values: [calls], overCap: shape.calls > MAX_BATCH };
    }
    case "nested": {
      let value: Json = Array.from({ length: shape.calls }, (_, i) => meCall(i + 1));
      for (let level = 1; level < shape.depth; level += 1) value = [value];
      return { values: [value], overCap: false };
    }
    case "mixed": {
      const messages = shape.steps.map((step): Json => (step.stop ? { id: step.id, method: "subscription.stop" } : liveCall(step.id)));
      const values: Json[] = [];
      for (let i = 0; i < messages.length; i += shape.perFrame) values.push(messages.slice(i, i + shape.perFrame));
      return { values, overCap: false };
    }
  }
}

/**
 * Results that mean a call ran, and the most subscriptions open at once, read from what the server
 * sent. tRPC answers a subscription its body refuses with "started", then the error, then
 * "stopped": a start whose next event is an error never held anything.
 */
function executed(received: string[]): { ran: number; maxOpen: number } {
  const events: { id: string; type: string }[] = [];
  for (const text of received) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      if (!isObj(frame)) continue;
      const id = JSON.stringify(frame.id);
      if (isObj(frame.result) && typeof frame.result.type === "string") events.push({ id, type: frame.result.type });
      else if ("error" in frame) events.push({ id, type: "error" });
    }
  }
  const refused = new Set(events.flatMap((event, i) => (event.type === "started" && events.slice(i + 1).find((e) => e.id === event.id)?.type === "error" ? [i] : [])));
  const open = new Set<string>();
  let ran = 0;
  let maxOpen = 0;
  for (const [i, event] of events.entries()) {
    if (event.type === "data" || (event.type === "started" && !refused.has(i))) ran += 1;
    if (event.type === "started" && !refused.has(i)) open.add(event.id);
    if (event.type === "stopped" || event.type === "error") open.delete(event.id);
    maxOpen = Math.max(maxOpen, open.size);
  }
  return { ran, maxOpen };
}

export const wsShapes = defineProperty<WsShapes>({
  name: "WebSocket: frame and batch shapes - JSON white space, nested and huge arrays, duplicate ids, subscriptions and stops - never past the limits",
  weight: 8,
  probeWebSocket: true,
  arbitrary: () => fc.record({ shape: shaped, before: jsonSpace, after: jsonSpace, indent: fc.constantFrom(0, 0, 1, 2) }),
  async run(world, input) {
    const alice = world.users[0];
    if (!alice) throw new Error("no seed data");
    const { values, overCap } = shapedValues(input.shape);
    const frames: Frame[] = [
      { text: JSON.stringify({ method: "connectionParams", data: { token: alice.accessToken } }) },
      ...values.map((value) => ({ text: `${input.before}${JSON.stringify(value, null, input.indent)}${input.after}` })),
    ];
    const { findings, sent, outcome } = await runSession(world, { query: "?connectionParams=1", frames, ...expectations(frames, true) });
    const { ran, maxOpen } = executed(outcome.received);
    if (overCap) {
      // Past 64 KiB the WebSocket layer refuses the frame first (1009).
      const closeCode = frames.some((f) => "text" in f && Buffer.byteLength(f.text) > 64 * 1024) ? 1009 : 1008;
      if (outcome.closeCode !== closeCode) findings.push({ kind: "resource", detail: `a batch past ${MAX_BATCH} calls was not closed with ${closeCode} (close ${String(outcome.closeCode)})` });
      if (ran > 0) findings.push({ kind: "resource", detail: `${ran} calls of a batch past the cap ran` });
    }
    if (input.shape.kind === "nested" && ran > 0) findings.push({ kind: "resource", detail: `${ran} calls of a nested array ran` });
    if (maxOpen > MAX_SUBSCRIPTIONS) findings.push({ kind: "resource", detail: `${maxOpen} subscriptions open at once on one connection (cap ${MAX_SUBSCRIPTIONS})` });
    return { findings, sent };
  },
});
