// The API reference, read from the router itself: docs/api.md for people, docs/api.schema.json for
// programs (clients in other languages). Nothing here is hand-kept per procedure: kind, auth and the
// derived error codes come from each procedure's definition, the rest from its `.meta()`.
// `pnpm --filter @parley/api api:docs` writes both files; test/api-reference.test.ts fails when they drift.
import { TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { getErrorShape } from "@trpc/server/unstable-core-do-not-import";
import { z } from "zod";
import { appRouter } from "../src/root.js";
import { DomainError } from "../src/errors.js";
import { MAX_CALLS_PER_BATCH } from "../src/limits.js";
import { conversationMemberProcedure, messageMemberProcedure, protectedProcedure, type ApiMeta } from "../src/trpc.js";

export const REGENERATE_COMMAND = "pnpm --filter @parley/api api:docs";
export const API_MD = "docs/api.md";
export const API_SCHEMA_JSON = "docs/api.schema.json";

type JsonSchema = Record<string, unknown>;
type Kind = "query" | "mutation" | "subscription";

export type ProcedureReference = {
  path: string;
  kind: Kind;
  description: string;
  /** "token": needs `Authorization: Bearer <access token>` (or the WebSocket's connection token). */
  auth: "none" | "token";
  /** True when the input names a conversation the caller must be a member of (directly, or through a message of it). */
  conversationMember: boolean;
  /** Error codes with when each happens, in HTTP status order. */
  errors: { code: TRPC_ERROR_CODE_KEY; httpStatus: number; when: string }[];
  /** What the client sends (JSON Schema of the input side), or null when the procedure takes none. */
  input: JsonSchema | null;
  /** True when the input may be left out altogether. */
  inputOptional: boolean;
  /** What the server returns (JSON Schema of the output side), or null when it is not declared. */
  output: JsonSchema | null;
  /** A subscription's event data; each event also has an `id` to resume from (`lastEventId`). */
  events?: JsonSchema;
};

export type ApiReference = {
  title: string;
  jsonSchemaDialect: string;
  transport: { maxCallsPerBatch: number; subscriptionsOverHttp: boolean };
  /** Error bodies as the server's error formatter shapes them (the `error` of a tRPC response). */
  errorExamples: { invalidInput: unknown; rateLimited: unknown };
  procedures: ProcedureReference[];
};

/**
 * What tRPC keeps about a procedure at run time. Its public type leaves out `middlewares` and
 * `output`; they are checked here so that an upgrade that moves them fails loudly, not silently.
 */
type ProcedureDefinition = { type: Kind; meta?: ApiMeta; inputs: z.ZodType[]; output?: z.ZodType; middlewares: unknown[] };

export function definitionOf(procedure: unknown): ProcedureDefinition {
  const def = (procedure as { _def?: Partial<ProcedureDefinition> })._def;
  if (!def || !Array.isArray(def.middlewares) || !Array.isArray(def.inputs)) {
    throw new Error("A tRPC procedure has no _def.middlewares/_def.inputs: scripts/api-reference.ts needs updating for this tRPC version");
  }
  return def as ProcedureDefinition;
}

/** Every procedure of the router by its dotted path, as the client calls it. */
export function proceduresOf(): Record<string, unknown> {
  return appRouter._def.procedures as unknown as Record<string, unknown>;
}

/** The last middleware a base procedure adds; a procedure built on it carries that same function. */
function lastMiddleware(procedure: unknown): unknown {
  return definitionOf(procedure).middlewares.at(-1);
}
const TOKEN_CHECK = lastMiddleware(protectedProcedure);
const MEMBERSHIP_CHECK = lastMiddleware(conversationMemberProcedure);
const MESSAGE_MEMBERSHIP_CHECK = lastMiddleware(messageMemberProcedure);

function httpStatus(code: TRPC_ERROR_CODE_KEY): number {
  return getHTTPStatusCodeFromError(new TRPCError({ code }));
}

const CHECKED_AFTER_TRANSFORM = ["minLength", "maxLength", "pattern", "minimum", "maximum", "minItems", "maxItems"];

/**
 * `a.transform(f).pipe(b)` (normalise, then check): on the input side zod shows only `a`, which would
 * hide the limits a client must respect. They are `b`'s, so the reference copies them over, saying so.
 */
function showLimitsAfterTransform(ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void {
  const def = (ctx.zodSchema as z.ZodType)._zod.def;
  if (def.type !== "pipe") return;
  const { in: first, out: second } = def as unknown as { in: z.ZodType; out: z.ZodType };
  const firstDef = first._zod.def;
  if (second._zod.def.type === "transform" || firstDef.type !== "pipe") return;
  if ((firstDef as unknown as { out: z.ZodType }).out._zod.def.type !== "transform") return;
  const limits = jsonSchema(second, "input");
  let copied = false;
  for (const key of CHECKED_AFTER_TRANSFORM) {
    if (key in limits && !(key in ctx.jsonSchema)) {
      ctx.jsonSchema[key] = limits[key];
      copied = true;
    }
  }
  if (copied) ctx.jsonSchema.$comment = "limits apply after normalisation (NFC, and trimming for names and queries)";
}

/** One JSON Schema, without the dialect line each would repeat (the document names it once). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  // Transforms and refinements are code, not schema: "any" leaves out what JSON Schema cannot say
  // (a transform's result, a refine's predicate) instead of failing.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: io === "input" ? showLimitsAfterTransform : undefined,
  });
  return rest;
}

/** tRPC merges stacked `.input()` objects into one; the reference shows the merged object. */
function mergedInput(inputs: z.ZodType[]): JsonSchema | null {
  const schemas = inputs.map((s) => jsonSchema(s, "input"));
  if (schemas.length <= 1) return schemas[0] ?? null;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const schema of schemas) {
    if (schema.type !== "object") return { allOf: schemas };
    Object.assign(properties, schema.properties);
    for (const name of (schema.required as string[] | undefined) ?? []) if (!required.includes(name)) required.push(name);
  }
  return { type: "object", properties, required };
}

function referenceOf(path: string, procedure: unknown): ProcedureReference {
  const def = definitionOf(procedure);
  const meta = def.meta;
  if (!meta) throw new Error(`${path} has no .meta({ description, errors }) (see ApiMeta in src/trpc.ts)`);
  const inputs = def.inputs;
  const auth = def.middlewares.includes(TOKEN_CHECK) ? "token" : "none";
  const messageMember = def.middlewares.includes(MESSAGE_MEMBERSHIP_CHECK);
  const conversationMember = messageMember || def.middlewares.includes(MEMBERSHIP_CHECK);

  const errors = new Map<TRPC_ERROR_CODE_KEY, string>();
  if (inputs.length > 0) errors.set("BAD_REQUEST", "the input does not match its schema (`data.issues` says which field and why)");
  if (auth === "token") errors.set("UNAUTHORIZED", "the access token is missing, invalid or expired, or its session has ended");
  if (messageMember) {
    errors.set("NOT_FOUND", "the message does not exist");
    errors.set("FORBIDDEN", "the caller is not a member of the message's conversation");
  } else if (conversationMember) {
    errors.set("NOT_FOUND", "the conversation does not exist");
    errors.set("FORBIDDEN", "the caller is not a member of the conversation");
  }
  for (const [code, when] of Object.entries(meta.errors) as [TRPC_ERROR_CODE_KEY, string][]) {
    const derived = errors.get(code);
    errors.set(code, derived ? `${derived}; or ${when}` : when);
  }

  return {
    path,
    kind: def.type,
    description: meta.description,
    auth,
    conversationMember,
    errors: [...errors]
      .map(([code, when]) => ({ code, httpStatus: httpStatus(code), when }))
      .sort((a, b) => a.httpStatus - b.httpStatus || a.code.localeCompare(b.code)),
    input: mergedInput(inputs),
    inputOptional: inputs.length === 0 || inputs.every((s) => s.safeParse(undefined).success),
    output: def.output ? jsonSchema(def.output, "output") : null,
    ...(meta.events ? { events: jsonSchema(meta.events, "output") } : {}),
  };
}

/** What the error formatter in src/trpc.ts makes of an error thrown by a procedure at `path`. */
function formattedError(path: string, error: TRPCError): unknown {
  return getErrorShape({ config: appRouter._def._config, error, type: "mutation", path, input: undefined, ctx: undefined });
}

function errorExamples(): ApiReference["errorExamples"] {
  // A real refusal: auth.signup's own input rules applied to a name and password too short.
  const signupInput = definitionOf(proceduresOf()["auth.signup"]).inputs[0];
  const refusal = signupInput?.safeParse({ username: "a", password: "short" });
  if (!refusal || refusal.success) throw new Error("auth.signup accepted a one-letter username: pick another invalid example");
  const rateLimited = new DomainError("rate_limited", "Too many messages. Try again in 30 seconds.", 30);
  return {
    invalidInput: formattedError("auth.signup", new TRPCError({ code: "BAD_REQUEST", cause: refusal.error })),
    rateLimited: formattedError("message.send", new TRPCError({ code: "TOO_MANY_REQUESTS", message: rateLimited.message, cause: rateLimited })),
  };
}

export function buildApiReference(): ApiReference {
  const procedures = proceduresOf();
  const config = appRouter._def._config as { sse?: { enabled?: boolean } };
  return {
    title: "Parley API",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    transport: { maxCallsPerBatch: MAX_CALLS_PER_BATCH, subscriptionsOverHttp: config.sse?.enabled !== false },
    errorExamples: errorExamples(),
    procedures: Object.keys(procedures)
      .sort()
      .map((path) => referenceOf(path, procedures[path])),
  };
}

export function renderSchemaJson(reference: ApiReference): string {
  return `${JSON.stringify(reference, null, 2)}\n`;
}

const fenced = (schema: unknown) => ["```json", JSON.stringify(schema, null, 2), "```"].join("\n");
const cell = (text: string) => text.replaceAll("|", "\\|");
const anchor = (path: string) => path.replaceAll(".", "");

export function renderMarkdown(reference: ApiReference): string {
  const { transport, errorExamples, procedures } = reference;
  const lines: string[] = [
    `# ${reference.title}`,
    "",
    `<!-- Generated from the router by packages/api/scripts/api-reference.ts. Do not edit: run \`${REGENERATE_COMMAND}\`. -->`,
    "",
    "Every procedure of the tRPC router, with what it takes, what it returns and the errors it raises.",
    `The same, for programs: [api.schema.json](api.schema.json) (JSON Schema ${reference.jsonSchemaDialect}).`,
    "What changed since v1 and what a client does about it: [contract-changes.md](contract-changes.md).",
    "",
    "## Transport",
    "",
    "- Queries and mutations travel over HTTP (tRPC's batched link) or the WebSocket.",
    transport.subscriptionsOverHttp
      ? "- Subscriptions travel over HTTP (server-sent events) or the WebSocket."
      : "- Subscriptions travel over the WebSocket only; the HTTP endpoint refuses them.",
    `- At most ${transport.maxCallsPerBatch} calls in one batched HTTP request or one WebSocket frame (\`MAX_CALLS_PER_BATCH\`, \`@parley/api/limits\`); past it the whole batch is refused.`,
    '- Procedures marked "token" need an access token from `auth.login` or `auth.refresh`.',
    "- Inputs are checked against the input schema after a few transforms the schema cannot show (NFC normalisation, trimming of names, lower-casing of usernames); lengths count Unicode code points.",
    "",
    "## Files (plain HTTP, not tRPC)",
    "",
    "- Upload: `POST /files?conversationId=<id>&name=<percent-encoded file name>` with `Authorization: Bearer <access token>` and the file's bytes as the raw body (not multipart). The caller must be a member of the conversation. Answers 201 with the attachment `{ id, name, size, contentType, width?, height? }` (as in `Message.attachments`), not attached to any message until `message.send` names it in `attachmentIds` (uploads never attached are removed after a day by default).",
    "- The type is read from the content, never from the name (unknown: `application/octet-stream`); the name is made safe to show; pictures (PNG, JPEG, WebP, GIF, AVIF) are re-encoded without metadata, upright, with width, height and a thumbnail.",
    "- Upload errors are JSON `{ error: { message, status } }`: 400 bad query or empty file, 401 bad token, 403 not a member, 404 no such conversation, 413 over the size limit (25 MB by default; refused from `Content-Length`, or cut off while streaming), 429 too many uploads (`Retry-After`).",
    "- Download: `file.urls` returns signed paths `/files/<id>/original` (and `/files/<id>/thumbnail` for pictures) valid 15 to 25 minutes, usable without a token (`<img src>`); `GET` or `HEAD`. Pictures are served inline with their type; everything else as an attachment of type `application/octet-stream`. An expired or altered URL answers 403, a file that is gone (its message deleted) 404.",
    "",
    "## Errors",
    "",
    "An error's `data.code` is one of the codes listed under each procedure, `data.httpStatus` its HTTP status.",
    "Any procedure may also fail with INTERNAL_SERVER_ERROR (500), without details. An input that breaks",
    "a rule is refused whole, with every broken rule in `data.issues`, for example:",
    "",
    fenced(errorExamples.invalidInput),
    "",
    "A refusal for going too fast says when to try again in `data.retryAfterSeconds`, for example:",
    "",
    fenced(errorExamples.rateLimited),
    "",
    "A refusal a client must tell apart from others of its code carries `data.reason`: `\"account_deactivated\"` (UNAUTHORIZED from `auth.login` or `auth.refresh`: an admin deactivated the account), `\"signup_not_allowed\"` and `\"invite_invalid\"` (FORBIDDEN from `auth.signup`). A WebSocket of a deactivated user is closed with 4004.",
    "",
    "## Procedures",
    "",
    "| procedure | kind | auth | description |",
    "|---|---|---|---|",
    ...procedures.map((p) => `| [\`${p.path}\`](#${anchor(p.path)}) | ${p.kind} | ${p.auth} | ${cell(p.description)} |`),
  ];
  for (const p of procedures) {
    lines.push(
      "",
      `### ${p.path}`,
      "",
      p.description,
      "",
      `- Kind: ${p.kind}`,
      `- Auth: ${p.auth === "token" ? "access token" : "none"}${p.conversationMember ? "; the caller must be a member of the conversation" : ""}`,
      "",
      "Errors:",
      "",
      "| code | HTTP | when |",
      "|---|---|---|",
      ...p.errors.map((e) => `| ${e.code} | ${e.httpStatus} | ${cell(e.when)} |`),
      "",
      p.input ? `Input${p.inputOptional ? " (may be left out)" : ""}:` : "Input: none.",
    );
    if (p.input) lines.push("", fenced(p.input));
    if (p.events) {
      lines.push("", "Events: each has an `id` (send the last one back as `lastEventId` to resume) and this `data`:", "", fenced(p.events));
    } else {
      lines.push("", p.output ? "Output:" : "Output: not declared.");
      if (p.output) lines.push("", fenced(p.output));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Both files as the router describes them today, keyed by their path from the repository root. */
export function generateApiDocs(): Record<string, string> {
  const reference = buildApiReference();
  return { [API_MD]: renderMarkdown(reference), [API_SCHEMA_JSON]: renderSchemaJson(reference) };
}
