// HTTP properties: every procedure as a client would call it, anything at all on the wire, batches,
// and bodies over the limit.
import fc from "fast-check";
import {
  anyInput,
  authorizationHeader,
  bogusPath,
  deepNesting,
  hostileKey,
  hostileString,
  hostileUnit,
  hostileValue,
  inputFor,
  objectOf,
  PROCEDURES,
  toJsonText,
  type Json,
  type Procedure,
} from "./arbitraries.js";
import { neutralize, neutralizeBatch } from "./neutralize.js";
import { describeRequest, sendHttp, type HttpRequest } from "./transport.js";
import type { Account, FuzzWorld } from "./world.js";
import { contentTypes, defineProperty, encodeLoose, judgeHttp, PROCEDURE_PATHS, PUBLIC_PATHS, tokenAt, tokenIndex } from "./property.js";

// ---------------------------------------------------------------------------------------------
// HTTP: every procedure, as the tRPC client would call it, give or take

interface HttpCall {
  procedure: Procedure;
  input: Json | undefined;
  token: number;
  authStyle: number;
  form: "natural" | "batch" | "jsonl" | "wrong method";
  contentType: string;
}

function procedureRequest(world: FuzzWorld, call: HttpCall): HttpRequest {
  const choice = tokenAt(world, call.token);
  const { path, type } = call.procedure;
  const input = toJsonText(neutralize(world, path, call.input, choice.owner));
  const headers: Record<string, string> = {};
  const authorization = authorizationHeader(choice.token, call.authStyle);
  if (authorization !== undefined) headers.authorization = authorization;
  const batch = call.form === "batch" || call.form === "jsonl";
  if (call.form === "jsonl") headers["trpc-accept"] = "application/jsonl";
  const wireInput = batch ? (input === undefined ? undefined : `{"0":${input}}`) : input;
  const asGet = (type === "mutation") === (call.form === "wrong method");
  const query = [batch ? "batch=1" : "", asGet && wireInput !== undefined ? `input=${encodeLoose(wireInput)}` : ""].filter(Boolean).join("&");
  const target = `/trpc/${path}${query ? `?${query}` : ""}`;
  if (asGet) return { method: "GET", target, headers };
  if (call.contentType) headers["content-type"] = call.contentType;
  return { method: "POST", target, headers, ...(wireInput !== undefined ? { body: Buffer.from(wireInput) } : {}) };
}

export const httpProcedures = defineProperty<HttpCall>({
  name: "HTTP: every procedure with random and malformed input and tokens",
  weight: 26,
  arbitrary: (world) =>
    fc.constantFrom(...PROCEDURES).chain((procedure) =>
      fc.record({
        procedure: fc.constant(procedure),
        input: inputFor(world, procedure.path),
        token: tokenIndex(world),
        authStyle: fc.nat({ max: 40 }),
        form: fc.constantFrom("natural", "natural", "natural", "natural", "batch", "jsonl", "wrong method"),
        contentType: fc.oneof({ weight: 8, arbitrary: fc.constant("application/json") }, { weight: 1, arbitrary: fc.constantFrom(...contentTypes) }),
      }),
    ),
  async run(world, call) {
    const request = procedureRequest(world, call);
    const sent = describeRequest(request);
    const answer = await sendHttp(world.server.url, request);
    const findings = judgeHttp(call.procedure.path, answer, sent);
    const protectedCall = !PUBLIC_PATHS.has(call.procedure.path) && call.procedure.type !== "subscription";
    if (protectedCall && !tokenAt(world, call.token).owner && (call.form === "natural" || call.form === "batch") && "status" in answer && answer.status < 300) {
      findings.push({ kind: "authz", detail: `${call.procedure.path} answered ${answer.status} to a caller without a valid token` });
    }
    return { findings, sent };
  },
});

// ---------------------------------------------------------------------------------------------
// HTTP: anything at all on the wire

type BodySpec =
  | { kind: "none" }
  | { kind: "json"; value: Json }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "multipart"; parts: [string, string][] };

interface RawCall {
  method: string;
  paths: string[];
  pathStyle: "procedure" | "batch" | "special" | "raw";
  special: string;
  raw: string;
  query: { kind: "none" } | { kind: "input"; value: Json; batch: boolean } | { kind: "text"; text: string };
  headers: [string, string][];
  body: BodySpec;
  chunked: boolean;
  token: number;
  authStyle: number;
}

const specialTargets = [
  "/trpc", "/trpc/", "//trpc/auth.me", "/trpc//auth.me", "/trpc/auth.me/", "/trpc/./auth.me", "/trpc/../trpc/auth.me", "/trpc/%2e%2e/healthz",
  "/trpc/auth.me%00", "/trpc/auth%2Eme", "/trpc/auth.me%20", "/trpc/auth.me?input=", "/trpc/auth.me#frag", "/healthz", "/healthz/", "/healthz?x=1", "/",
  "/index.html", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/../../package.json", "/trpc?batch=1", "/TRPC/auth.me", "/favicon.ico",
];

/** Paths written straight onto the wire, stray percent signs and all. */
const rawPath = fc.string({ unit: fc.constantFrom(..."abem.,_-~!*()'%%%09AFZ/".split("")), maxLength: 24 }).map((path) => `/trpc/${path}`);

const extraHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant("trpc-accept"), fc.constantFrom("application/jsonl", "text/event-stream", "garbage")),
  fc.tuple(fc.constant("accept"), fc.constantFrom("text/event-stream", "application/jsonl", "*/*", "text/html")),
  fc.tuple(fc.constant("last-event-id"), fc.oneof(fc.constantFrom("1", "0", "-1", "9223372036854775808"), fc.string({ maxLength: 30 }))),
  fc.tuple(fc.constant("x-forwarded-for"), fc.constantFrom("1.2.3.4", "::1, 10.0.0.1", "", "not an address")),
  fc.tuple(fc.constant("origin"), fc.constantFrom("https://evil.example", "null", "http://localhost:1")),
  fc.tuple(fc.constant("trpc-batch-mode"), fc.constantFrom("stream", "garbage")),
  fc.tuple(fc.constant("connection"), fc.constantFrom("close", "upgrade")),
  fc.tuple(fc.constant("upgrade"), fc.constantFrom("websocket", "h2c")),
  fc.tuple(fc.constant("expect"), fc.constant("100-continue")),
  fc.tuple(fc.constant("content-encoding"), fc.constantFrom("gzip", "br", "garbage")),
  fc.tuple(fc.string({ unit: fc.constantFrom(..."abcxyz-_".split("")), minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 })),
);

const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: "none" }) },
  { weight: 5, arbitrary: fc.oneof(hostileValue, deepNesting).map((value): BodySpec => ({ kind: "json", value })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom("", "{", "}", "[", "[]", "{}", "null", "\"", "{\"0\":", "[".repeat(10_000), "{\"a\":".repeat(3_000), "\ufeff{}", "1e999999", "-"),
        fc.string({ unit: hostileUnit, maxLength: 200 }),
      )
      .map((text): BodySpec => ({ kind: "text", text })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((bytes): BodySpec => ({ kind: "bytes", bytes })) },
  {
    weight: 1,
    arbitrary: fc.array(fc.tuple(hostileKey, hostileString), { maxLength: 4 }).map((parts): BodySpec => ({ kind: "multipart", parts })),
  },
);

/** The procedures a raw call names: one, several (a batch), or none that could store anything. */
function pathsOf(call: RawCall): string[] {
  if (call.pathStyle === "procedure") return call.paths.slice(0, 1);
  return call.pathStyle === "batch" ? call.paths : [];
}

/** A JSON input for the procedures the call names, made harmless for the caller. */
function harmless(world: FuzzWorld, call: RawCall, value: Json, caller: Account | null): string {
  const paths = pathsOf(call);
  const single = paths.length === 1 ? paths[0] : undefined;
  return toJsonText(neutralizeBatch(world, paths, neutralize(world, single, value, caller), caller) ?? null) ?? "null";
}

function rawBody(world: FuzzWorld, call: RawCall, caller: Account | null): Buffer | undefined {
  const body = call.body;
  switch (body.kind) {
    case "none":
      return undefined;
    case "json":
      return Buffer.from(harmless(world, call, body.value, caller));
    case "text":
      return Buffer.from(body.text);
    case "bytes":
      return Buffer.from(body.bytes);
    case "multipart":
      return Buffer.from(
        `${body.parts
          .map(([name, value]) => `------fuzz\r\nContent-Disposition: form-data; name="${name.replace(/["\r\n]/g, "")}"\r\n\r\n${value}\r\n`)
          .join("")}------fuzz--\r\n`,
      );
  }
}

function rawRequest(world: FuzzWorld, call: RawCall): HttpRequest {
  const choice = tokenAt(world, call.token);
  const caller = choice.owner;
  let target: string;
  if (call.pathStyle === "special") target = call.special;
  else if (call.pathStyle === "raw") target = call.raw;
  else target = `/trpc/${pathsOf(call).map(encodeLoose).join(",")}`;
  const query = call.query;
  if (query.kind === "input") {
    target += `${target.includes("?") ? "&" : "?"}${query.batch ? "batch=1&" : ""}input=${encodeLoose(harmless(world, call, query.value, caller))}`;
  } else if (query.kind === "text") {
    target += `${target.includes("?") ? "&" : "?"}${query.text}`;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of call.headers) headers[name.toLowerCase()] = value.replace(/[^\x20-\x7e\t]/g, "?");
  const authorization = authorizationHeader(choice.token, call.authStyle);
  if (authorization !== undefined) headers.authorization = authorization;
  const body = rawBody(world, call, caller);
  return { method: call.method, target, headers, ...(body ? { body } : {}), ...(call.chunked ? { chunked: true } : {}) };
}

export const httpRaw = defineProperty<RawCall>({
  name: "HTTP: arbitrary methods, paths, queries, headers and bodies",
  weight: 14,
  arbitrary: (world) =>
    fc.record({
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("GET", "POST") },
        { weight: 1, arbitrary: fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "get") },
      ),
      paths: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PROCEDURE_PATHS) }, { weight: 1, arbitrary: bogusPath }), { minLength: 1, maxLength: 4 }),
      pathStyle: fc.constantFrom("procedure", "procedure", "procedure", "batch", "batch", "special", "raw"),
      special: fc.constantFrom(...specialTargets),
      raw: rawPath,
      query: fc.oneof(
        { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant("input" as const), value: fc.oneof(hostileValue, deepNesting), batch: fc.boolean() }) },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              fc.constantFrom(
                "input=%ZZ", "input=%ED%A0%80", "input=", "input", "batch=1", "batch=0", "batch=1&input=%7B%7D", "input=1&input=2",
                "connectionParams=1", "connectionParams=%7Bnope",
              ),
              fc.tuple(hostileKey, hostileString).map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(v)}`),
            )
            .map((text) => ({ kind: "text" as const, text })),
        },
      ),
      headers: fc.tuple(
        fc.option(fc.constantFrom(...contentTypes), { nil: undefined }),
        fc.array(extraHeader, { maxLength: 3 }),
      ).map(([contentType, extra]): [string, string][] => (contentType === undefined ? extra : [["content-type", contentType], ...extra])),
      body: bodySpec,
      chunked: fc.boolean(),
      token: tokenIndex(world),
      authStyle: fc.nat({ max: 40 }),
    }),
  async run(world, call) {
    const request = rawRequest(world, call);
    const sent = describeRequest(request);
    return { findings: judgeHttp(`${request.method} ${request.target.slice(0, 200)}`, await sendHttp(world.server.url, request), sent), sent };
  },
});

// ---------------------------------------------------------------------------------------------
// HTTP: batches

interface BatchCall {
  calls: { path: string; input: Json | undefined }[];
  encoding: "object" | "array" | "garbage";
  garbage: Json;
  method: "GET" | "POST";
  jsonl: boolean;
  token: number;
}

export const httpBatch = defineProperty<BatchCall>({
  name: "HTTP: batches of many calls, mixed procedures, broken batch inputs",
  weight: 8,
  arbitrary: (world) =>
    fc.record({
      calls: fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...PROCEDURES).chain((p) => inputFor(world, p.path).map((input) => ({ path: p.path as string, input }))) },
          { weight: 1, arbitrary: bogusPath.map((path) => ({ path, input: undefined })) },
        ),
        { minLength: 0, maxLength: 30 },
      ),
      encoding: fc.constantFrom("object", "object", "array", "garbage"),
      garbage: anyInput.map((v) => v ?? null),
      method: fc.constantFrom("GET", "POST"),
      jsonl: fc.boolean(),
      token: tokenIndex(world),
    }),
  async run(world, batch) {
    const choice = tokenAt(world, batch.token);
    const paths = batch.calls.map((c) => c.path);
    const inputs = batch.calls.map((c) => neutralize(world, c.path, c.input, choice.owner) ?? null);
    const input =
      batch.encoding === "array"
        ? inputs
        : batch.encoding === "object"
          ? objectOf(inputs.map((value, i) => [String(i), value]))
          : neutralizeBatch(world, paths, batch.garbage, choice.owner);
    const text = toJsonText(input ?? null) ?? "null";
    const headers: Record<string, string> = { "content-type": "application/json" };
    const authorization = authorizationHeader(choice.token, 0);
    if (authorization !== undefined) headers.authorization = authorization;
    if (batch.jsonl) headers["trpc-accept"] = "application/jsonl";
    const target = `/trpc/${paths.map(encodeLoose).join(",")}?batch=1${batch.method === "GET" ? `&input=${encodeLoose(text)}` : ""}`;
    const request: HttpRequest = { method: batch.method, target, headers, ...(batch.method === "POST" ? { body: Buffer.from(text) } : {}) };
    const sent = describeRequest(request);
    return { findings: judgeHttp(`batch of ${paths.length}`, await sendHttp(world.server.url, request), sent), sent };
  },
});

// ---------------------------------------------------------------------------------------------
// HTTP: bodies over the limit

interface Oversized {
  bytes: number;
  shape: "string field" | "many keys" | "long array" | "deep" | "raw" | "multipart" | "long url";
  path: string;
  batch: boolean;
  chunked: boolean;
}

const BODY_LIMIT = 100 * 1024;

/** The body of the given shape, padded with JSON white space to at least `o.bytes`. */
function oversizedBody(o: Oversized): Buffer {
  const body = oversizedContent(o);
  return body.length >= o.bytes ? body : Buffer.concat([body, Buffer.alloc(o.bytes - body.length, 0x20)]);
}

function oversizedContent(o: Oversized): Buffer {
  switch (o.shape) {
    case "string field":
      return Buffer.from(JSON.stringify({ username: "alice", password: "x".repeat(o.bytes), content: "y" }));
    case "many keys":
      return Buffer.from(JSON.stringify(objectOf(Array.from({ length: Math.ceil(o.bytes / 12) }, (_, i): [string, Json] => [`k${i}`, i]))));
    case "long array":
      return Buffer.from(JSON.stringify({ memberIds: Array.from({ length: Math.ceil(o.bytes / 10) }, (_, i) => `id${i}`) }));
    case "deep":
      return Buffer.from(`${"[".repeat(o.bytes / 2)}${"]".repeat(o.bytes / 2)}`);
    case "raw":
      return Buffer.alloc(o.bytes, 0x41);
    case "multipart":
    case "long url":
      return Buffer.from(`------fuzz\r\nContent-Disposition: form-data; name="content"\r\n\r\n${"z".repeat(o.bytes)}\r\n------fuzz--\r\n`);
  }
}

const mutationPaths = PROCEDURES.filter((p) => p.type === "mutation").map((p) => p.path);

export const httpOversized = defineProperty<Oversized>({
  name: "HTTP: bodies over 100 KiB are refused with 413, URLs over the header limit with 4xx",
  weight: 3,
  arbitrary: () =>
    fc.record({
      bytes: fc.integer({ min: BODY_LIMIT + 2, max: 1536 * 1024 }).map((n) => n - (n % 2)),
      shape: fc.constantFrom("string field", "many keys", "long array", "deep", "raw", "multipart", "long url"),
      path: fc.constantFrom(...mutationPaths),
      batch: fc.boolean(),
      chunked: fc.boolean(),
    }),
  async run(world, o) {
    const target = `/trpc/${o.path}${o.batch ? "?batch=1" : ""}`;
    if (o.shape === "long url") {
      const request: HttpRequest = { method: "GET", target: `/trpc/message.list?input=${"a".repeat(Math.min(o.bytes, 200_000))}`, headers: {} };
      const answer = await sendHttp(world.server.url, request);
      const sent = describeRequest(request);
      const findings = judgeHttp("long URL", answer, sent);
      if ("status" in answer && answer.status < 400) findings.push({ kind: "status", detail: `a ${o.bytes}-byte URL got ${answer.status}` });
      return { findings, sent };
    }
    const body = oversizedBody(o);
    const contentType = o.shape === "multipart" ? "multipart/form-data; boundary=----fuzz" : "application/json";
    // With a valid token, so that protected procedures get as far as reading the body.
    const headers = { "content-type": contentType, authorization: `Bearer ${world.users[0]?.accessToken ?? ""}` };
    const request: HttpRequest = { method: "POST", target, headers, body, ...(o.chunked ? { chunked: true } : {}) };
    const sent = `POST ${target} ${contentType} ${o.shape} body of ${body.length} bytes${o.chunked ? ", chunked" : ""}`;
    const answer = await sendHttp(world.server.url, request);
    const findings = judgeHttp(sent, answer, sent);
    if ("status" in answer && answer.status !== 413) findings.push({ kind: "status", detail: `${sent} got ${answer.status}, not 413: ${answer.body.slice(0, 200)}` });
    return { findings, sent };
  },
});
