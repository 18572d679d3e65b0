// docs/api.md and docs/api.schema.json are generated from the router; these tests keep them true.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_MD, API_SCHEMA_JSON, buildApiReference, definitionOf, generateApiDocs, proceduresOf, REGENERATE_COMMAND } from "../scripts/api-reference.js";
import { createContext, createServices, type Services } from "../src/context.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import { callOverHttp, openTestDatabase, testConfig, trpcErrorOf, type TestDatabase } from "./helpers.js";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const paths = Object.keys(proceduresOf());
const metaOf = (path: string) => definitionOf(proceduresOf()[path]).meta;

function committed(path: string): string {
  try {
    return readFileSync(repositoryRoot + path, "utf8");
  } catch {
    return `(${path} is missing)`;
  }
}

describe("the committed API reference", () => {
  it.each([API_MD, API_SCHEMA_JSON])("%s is what the router produces", (path) => {
    const generated = generateApiDocs()[path];
    expect(committed(path), `${path} differs from the router: run \`${REGENERATE_COMMAND}\` and commit the result`).toBe(generated);
  });
});

describe("what every procedure says about itself", () => {
  it.each(paths)("%s has a one-sentence description", (path) => {
    const meta = metaOf(path);
    expect(meta?.description, `${path} needs .meta({ description, errors })`).toMatch(/^[A-Z][^\n]*[^.]\.$/);
    // One sentence: no full stop followed by another sentence.
    expect(meta?.description).not.toMatch(/\.\s+[A-Z]/);
  });

  it.each(paths.filter((path) => definitionOf(proceduresOf()[path]).type === "subscription"))("%s declares the schema of its events", (path) => {
    expect(metaOf(path)?.events, `${path} needs .meta({ events: <zod schema of each event's data> })`).toBeDefined();
  });

  it.each(paths)("%s declares the errors its own work raises", (path) => {
    const errors = metaOf(path)?.errors;
    expect(errors, `${path} needs .meta({ errors: {...} }), {} when it raises none of its own`).toBeTypeOf("object");
    for (const [code, when] of Object.entries(errors ?? {})) {
      expect(Object.keys(TRPC_ERROR_CODES_BY_KEY)).toContain(code);
      expect(when).not.toBe("");
    }
  });
});

describe("the reference's derived facts match what the procedures do", () => {
  let database: TestDatabase;
  let services: Services;

  beforeAll(async () => {
    database = await openTestDatabase();
    services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig() });
  });

  afterAll(async () => {
    services.close();
    await database.dispose();
  });

  /** Calls a procedure by its dotted path without a token, with an input no procedure accepts. */
  function callWithoutToken(path: string): Promise<unknown> {
    let target: unknown = createCaller(createContext(services, undefined));
    for (const key of path.split(".")) target = (target as Record<string, unknown>)[key];
    return (target as (input: unknown) => Promise<unknown>)({ "not a field": true });
  }

  it.each(paths)("%s without a token fails as the reference's auth says", async (path) => {
    const auth = buildApiReference().procedures.find((p) => p.path === path)?.auth;
    expect(auth).toBeDefined();
    const error = await trpcErrorOf(callWithoutToken(path));
    // A procedure that needs a token refuses before reading its input; one that does not reaches
    // its input check, and every public procedure needs fields this input lacks.
    expect(error.code).toBe(auth === "token" ? "UNAUTHORIZED" : "BAD_REQUEST");
  });

  it("a conversation procedure lists NOT_FOUND and FORBIDDEN besides its own codes; a public one no UNAUTHORIZED it does not raise", () => {
    const byPath = new Map(buildApiReference().procedures.map((p) => [p.path, p]));
    const codes = (path: string) => byPath.get(path)?.errors.map((e) => e.code);
    expect(codes("message.send")).toEqual(expect.arrayContaining(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "TOO_MANY_REQUESTS"]));
    expect(byPath.get("message.send")?.conversationMember).toBe(true);
    expect(codes("auth.signup")).not.toContain("UNAUTHORIZED");
    expect(byPath.get("auth.signup")?.auth).toBe("none");
  });

  it("the reference's invalid-input example is the error body the server sends for that input", async () => {
    const result = await callOverHttp(services, { path: "auth.signup", kind: "mutation", input: { username: "a", password: "short" } });
    expect(result.status).toBe(400);
    expect((result.body as { error: unknown }).error).toEqual(buildApiReference().errorExamples.invalidInput);
  });
});
