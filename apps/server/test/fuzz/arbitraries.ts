// Generators of hostile input: strings, numbers, keys and JSON values that break parsers and
// validators, and per-procedure inputs that are mostly invalid but often only just so.
import fc from "fast-check";
import { appRouter, type AppRouter } from "@parley/api";
import type { AnyProcedure } from "@trpc/server";
import type { FuzzWorld } from "./world.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every procedure path of the router, as the client spells it ("auth.login"), derived from its type. */
type PathsOf<Record_, Prefix extends string = ""> = {
  [K in keyof Record_ & string]: Record_[K] extends AnyProcedure ? `${Prefix}${K}` : PathsOf<Record_[K], `${Prefix}${K}.`>;
}[keyof Record_ & string];
export type ProcedurePath = PathsOf<AppRouter["_def"]["record"]>;

export interface Procedure {
  path: ProcedurePath;
  type: "query" | "mutation" | "subscription";
}

/** The procedures a router serves, read from the router itself: its flat path -> procedure record. */
export function proceduresOf(router: { _def: { procedures: object } }): { path: string; type: Procedure["type"] }[] {
  return Object.entries(router._def.procedures as Record<string, AnyProcedure>).map(([path, procedure]) => ({ path, type: procedure._def.type }));
}

/** Every procedure of the app's router: a new one is fuzzed as soon as it has a generator below. */
export const PROCEDURES: readonly Procedure[] = proceduresOf(appRouter).map((p) => ({ path: p.path as ProcedurePath, type: p.type }));

/** One UTF-16 code unit from the surrogate range: valid JSON (as an escape), not valid Unicode. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

const specialChars = [
  "\u0000", "\u0001", "\u001f", "\u007f", "\n", "\r", "\t", " ", "\u00a0", "\u2028", "\u2029", "\ufeff", "\u200b", "\u200d",
  "\u202e", "\ufffd", "\uffff", "%", "'", '"', "\\", "/", "<", ">", "&", ";", "$", "{", "}", "`", "*", "?", "#", ",", ".",
  "😀", "𝔘", "é", "ß", "İ", "\u212a", "ﬃ", "é", "👨‍👩‍👧",
];

/** One character of a hostile string: mostly the characters of valid names, then anything. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcxyzABCXYZ0189_.-".split("")) },
  { weight: 3, arbitrary: fc.constantFrom(...specialChars) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
);

const interestingStrings = [
  "", " ", "   ", "\n\t", "null", "undefined", "true", "NaN", "Infinity", "-1", "0", "00", "01", "1.5", "1e3", "0x10",
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "then",
  "' OR '1'='1", "'; DROP TABLE \"User\"; --", "\" OR 1=1 --", "1; SELECT 1", "%' --", "\\", "\\u0000", "%00", "%s%s%n",
  "../../../../etc/passwd", "..\\..\\windows\\win.ini", "file:///etc/passwd", "${jndi:ldap://x/a}", "{{7*7}}", "<script>alert(1)</script>",
  "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999", "-9223372036854775808",
  "1".repeat(19), "1".repeat(20), "eyJhbGciOiJub25lIn0.e30.", "Bearer x",
];

const boundaryLengths = [0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, 99, 100, 101, 127, 128, 129, 3999, 4000, 4001, 4096, 4097, 20_000];

export const boundaryString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...boundaryLengths), fc.constantFrom("a", " ", "é", "😀", "\u0000", "Z9_"))
  .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: hostileUnit, maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...interestingStrings) },
  { weight: 2, arbitrary: boundaryString },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 0.5, 50, 100, 101, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 2 ** 63, 1e308, 5e-324, Number.MAX_VALUE),
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "then", "toJSON", "__defineGetter__",
      "id", "username", "password", "fullName", "title", "memberIds", "conversationId", "content", "clientMessageId", "cursor", "around", "after",
      "limit", "lastEventId", "refreshToken", "token", "input", "path", "method", "params", "json", "meta", "0", "1", "",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: hostileUnit, maxLength: 12 }) },
);

/** An object with exactly these own keys, "__proto__" included (as JSON.parse would make it). */
export function objectOf(entries: [string, Json][]): { [key: string]: Json } {
  return Object.fromEntries(entries) as { [key: string]: Json };
}

export const hostileLeaf: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber.map((n) => (Number.isFinite(n) ? n : null)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const deepMarkers = new WeakMap<object, string>();

/**
 * Nesting far deeper than any input needs: parsers and validators must not recurse into trouble.
 * Generated as a small marker object that toJsonText() writes out as the deep text, so that
 * fast-check can print and shrink it and no recursive code on the client side meets it.
 */
export const deepNesting: fc.Arbitrary<Json> = fc
  .tuple(fc.integer({ min: 50, max: 5_000 }), fc.constantFrom("array", "object", "__proto__"))
  .map(([depth, kind]) => {
    const marker = objectOf([
      ["nestedDepth", depth],
      ["nestedKind", kind],
    ]);
    const [open, close] = kind === "array" ? ["[", "]"] : [`{"${kind === "object" ? "a" : "__proto__"}":`, "}"];
    deepMarkers.set(marker, `${open.repeat(depth)}"bottom"${close.repeat(depth)}`);
    return marker;
  });

/** JSON.stringify, except that deep-nesting markers are written out in full. */
export function toJsonText(value: Json | undefined): string | undefined {
  if (value === undefined) return undefined;
  const texts: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    const deep = typeof v === "object" && v !== null ? deepMarkers.get(v) : undefined;
    if (deep === undefined) return v;
    texts.push(deep);
    return `\u0000deep${texts.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_match, i: string) => texts[Number(i)] ?? "null");
}

export const hostileValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json; node: Json }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 4, withCrossShrink: true }, hostileLeaf, tie("node")),
  node: fc.oneof(
    fc.array(tie("value"), { maxLength: 6 }),
    fc.array(fc.tuple(hostileKey, tie("value")), { maxLength: 6 }).map(objectOf),
  ),
})).value;

/** Any JSON at all, sometimes absurdly deep, sometimes absent (undefined: no input sent). */
export const anyInput: fc.Arbitrary<Json | undefined> = fc.oneof(
  { weight: 8, arbitrary: hostileValue },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const MISSING = Symbol("missing");

/**
 * An object with the procedure's fields, each usually plausible, sometimes hostile, sometimes
 * missing, plus a few stray keys now and then.
 */
function shaped(model: Record<string, fc.Arbitrary<Json>>): fc.Arbitrary<Json> {
  const keys = Object.keys(model);
  const fields = keys.map((key) => {
    const plausible = model[key];
    if (!plausible) throw new Error(key);
    return fc.option(fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: hostileValue }), { freq: 8, nil: MISSING });
  });
  const extra = fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileValue), { maxLength: 3 }) });
  return fc.tuple(fc.tuple(...fields), extra).map(([values, extras]) => {
    const entries: [string, Json][] = [];
    values.forEach((value, i) => {
      const key = keys[i];
      if (key !== undefined && typeof value !== "symbol") entries.push([key, value]);
    });
    return objectOf([...entries, ...extras]);
  });
}

function usernameLike(world: FuzzWorld): fc.Arbitrary<string> {
  const taken = [...world.takenUsernames];
  return fc.oneof(
    fc.constantFrom(...taken).chain((name) => fc.constantFrom(name, name.toUpperCase(), name[0]?.toUpperCase() + name.slice(1))),
    fc.stringMatching(/^[a-zA-Z0-9_.-]{3,32}$/),
    hostileString,
  );
}

const passwordLike = fc.oneof(fc.string({ unit: hostileUnit, minLength: 8, maxLength: 40 }), boundaryString, hostileString);

const messageIdLike = (world: FuzzWorld): fc.Arbitrary<Json> =>
  fc.oneof(
    fc.constantFrom(...world.messageIds),
    fc.constantFrom("0", "1", "-1", "01", "1.0", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", " 1"),
    fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n) => n.toString()),
    hostileLeaf,
  );

const refreshTokenLike = (world: FuzzWorld): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...world.refreshTokens), hostileString);

function conversationIdLike(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...world.conversations.map((c) => c.id)) },
    { weight: 1, arbitrary: fc.constantFrom(...world.ghostIds) },
    { weight: 1, arbitrary: hostileString },
  );
}

function memberIdLike(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...world.users.map((u) => u.id)) },
    { weight: 1, arbitrary: fc.constantFrom(...world.ghostIds) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Page sizes around every list's bounds (1..20, 1..50, 1..100, 1..200) and hostile values. */
const pageLimit: fc.Arbitrary<Json> = fc.oneof(fc.constantFrom(0, 1, 20, 21, 50, 51, 100, 101, 200, 201, -1, 1.5, 2 ** 53), hostileLeaf);

/** How the fuzzer makes inputs for one procedure and what it must know about calling it. */
export interface InputGenerator {
  /** Callable without a token (the others must refuse a caller without a valid one). */
  public: boolean;
  /** Each field of the input, plausibly filled; null when the procedure takes no input. */
  fields: ((world: FuzzWorld) => Record<string, fc.Arbitrary<Json>>) | null;
}

/**
 * One generator per procedure of the router. Typed by the router's paths, so that a new procedure
 * without one (or a removed one still here) does not compile; fuzz.test.ts checks the same at run time.
 */
export const GENERATORS: Record<ProcedurePath, InputGenerator> = {
  "auth.signup": { public: true, fields: (world) => ({ username: usernameLike(world), password: passwordLike, fullName: hostileString }) },
  // Any two strings pass validation and cost an argon2 verification: keep most of them invalid.
  "auth.login": {
    public: true,
    fields: (world) => ({
      username: fc.oneof({ weight: 1, arbitrary: usernameLike(world) }, { weight: 3, arbitrary: fc.oneof(hostileLeaf, boundaryString.filter((s) => s.length > 32)) }),
      password: passwordLike,
    }),
  },
  "auth.refresh": { public: true, fields: (world) => ({ refreshToken: refreshTokenLike(world) }) },
  "auth.logout": { public: true, fields: (world) => ({ refreshToken: refreshTokenLike(world) }) },
  "auth.me": { public: false, fields: null },
  "auth.role": { public: false, fields: null },
  "auth.signupInfo": { public: true, fields: () => ({ inviteToken: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), hostileString) }) },
  "user.list": { public: false, fields: (world) => ({ cursor: fc.oneof(usernameLike(world), hostileLeaf), limit: pageLimit }) },
  "user.search": { public: false, fields: (world) => ({ query: fc.oneof(usernameLike(world), hostileString), limit: pageLimit }) },
  "conversation.list": { public: false, fields: (world) => ({ cursor: fc.oneof(conversationIdLike(world), hostileLeaf), limit: pageLimit }) },
  "conversation.get": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world) }) },
  "conversation.create": {
    public: false,
    fields: (world) => ({
      title: hostileString,
      memberIds: fc.oneof(
        { weight: 6, arbitrary: fc.array(memberIdLike(world), { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.array(hostileLeaf, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom(999, 1000, 1001).chain((n) => fc.array(memberIdLike(world), { minLength: n, maxLength: n })) },
      ),
    }),
  },
  "message.list": {
    public: false,
    fields: (world) => ({
      conversationId: conversationIdLike(world),
      cursor: messageIdLike(world),
      around: messageIdLike(world),
      after: messageIdLike(world),
      limit: fc.oneof(fc.constantFrom(0, 1, 50, 100, 101, -1, 1.5, 2 ** 53), hostileLeaf),
    }),
  },
  "message.search": {
    public: false,
    fields: (world) => ({
      query: fc.oneof(
        fc.constantFrom("message", "mess", '"hello world"', "from:someone hi", "in:nowhere x", "has:file x", "has:image x", "café привет 東京都", '"', "from:", "x".repeat(501)),
        fc.constantFrom(...world.users.map((u) => `from:${u.username} a`)),
        hostileString,
      ),
      conversationId: conversationIdLike(world),
      cursor: messageIdLike(world),
      limit: pageLimit,
    }),
  },
  "message.send": {
    public: false,
    fields: (world) => ({ conversationId: conversationIdLike(world), content: hostileString, clientMessageId: fc.oneof(fc.uuid(), hostileString) }),
  },
  "message.live": { public: false, fields: (world) => ({ lastEventId: messageIdLike(world) }) },
  "message.edit": { public: false, fields: (world) => ({ messageId: messageIdLike(world), content: hostileString }) },
  "message.delete": { public: false, fields: (world) => ({ messageId: messageIdLike(world) }) },
  "message.react": {
    public: false,
    fields: (world) => ({
      messageId: messageIdLike(world),
      emoji: fc.oneof(fc.constantFrom("👍", "🎉", "❤️", "👩‍👩‍👧", " ", "a b", "x".repeat(33), ""), hostileString),
      on: fc.oneof(fc.boolean(), hostileLeaf),
    }),
  },
  "conversation.setNotify": {
    public: false,
    fields: (world) => ({ conversationId: conversationIdLike(world), level: fc.oneof(fc.constantFrom("all", "mentions", "none", "ALL", "muted", ""), hostileLeaf) }),
  },
  "conversation.addMembers": {
    public: false,
    fields: (world) => ({ conversationId: conversationIdLike(world), userIds: fc.oneof(fc.array(memberIdLike(world), { maxLength: 5 }), fc.array(hostileLeaf, { maxLength: 3 })) }),
  },
  "conversation.removeMember": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world), userId: memberIdLike(world) }) },
  "conversation.leave": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world) }) },
  "conversation.rename": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world), title: hostileString }) },
  "conversation.markRead": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world), messageId: messageIdLike(world) }) },
  "sync.events": { public: false, fields: (world) => ({ lastEventId: messageIdLike(world) }) },
  "typing.set": { public: false, fields: (world) => ({ conversationId: conversationIdLike(world) }) },
  "presence.set": { public: false, fields: () => ({ status: fc.oneof(fc.constantFrom("active", "away", "online", "offline", "AWAY", ""), hostileLeaf) }) },
  // The fuzzer uploads nothing: every id names no file the caller may see (or none at all), so the answer is a list without it.
  "file.urls": {
    public: false,
    fields: (world) => ({
      attachmentIds: fc.oneof(
        { weight: 6, arbitrary: fc.array(fc.oneof(conversationIdLike(world), fc.stringMatching(/^c[a-z0-9]{24}$/)), { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.array(hostileLeaf, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom(100, 101).chain((n) => fc.array(fc.constant("cabc"), { minLength: n, maxLength: n })) },
      ),
    }),
  },
  // alice, the first account, is an admin: her calls are made harmless in neutralize.ts.
  "admin.users": { public: false, fields: (world) => ({ query: fc.oneof(usernameLike(world), hostileString), cursor: fc.oneof(usernameLike(world), hostileLeaf), limit: pageLimit }) },
  "admin.setAdmin": { public: false, fields: (world) => ({ userId: memberIdLike(world), admin: fc.oneof(fc.boolean(), hostileLeaf) }) },
  "admin.deactivate": { public: false, fields: (world) => ({ userId: memberIdLike(world) }) },
  "admin.reactivate": { public: false, fields: (world) => ({ userId: memberIdLike(world) }) },
  "admin.createInvite": {
    public: false,
    fields: () => ({ maxUses: fc.oneof(fc.constantFrom(0, 1, 1000, 1001, -1, 1.5), hostileLeaf), expiresInHours: fc.oneof(fc.constantFrom(0, 1, 720, 721, 2 ** 53), hostileLeaf) }),
  },
  "admin.invites": { public: false, fields: (world) => ({ cursor: fc.oneof(conversationIdLike(world), hostileLeaf), limit: pageLimit }) },
  "admin.revokeInvite": { public: false, fields: (world) => ({ inviteId: fc.oneof(fc.constantFrom(...world.ghostIds), hostileString) }) },
  "admin.settings": { public: false, fields: null },
  "admin.health": { public: false, fields: null },
  "admin.setSignupMode": { public: false, fields: () => ({ mode: fc.oneof(fc.constantFrom("open", "invite", "closed", "OPEN", ""), hostileLeaf) }) },
  "admin.auditLog": {
    public: false,
    fields: (world) => ({
      kind: fc.oneof(fc.constantFrom("login.failed", "user.deactivated", "nope"), hostileLeaf),
      userId: memberIdLike(world),
      cursor: fc.oneof(fc.constantFrom("1", "0", "99999999999", "-1"), hostileLeaf),
      limit: pageLimit,
    }),
  },
  "user.presence": {
    public: false,
    fields: (world) => ({
      userIds: fc.oneof(
        { weight: 6, arbitrary: fc.array(memberIdLike(world), { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.array(hostileLeaf, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom(199, 200, 201).chain((n) => fc.array(memberIdLike(world), { minLength: n, maxLength: n })) },
      ),
    }),
  },
};

/**
 * The generator of `path`, if it has one. Only the type checker and the coverage test in
 * fuzz.test.ts stop a procedure without one; until then it gets any input and counts as protected,
 * so that the suite still loads and that test names what is missing.
 */
export function generatorOf(path: string): InputGenerator | undefined {
  return Object.hasOwn(GENERATORS, path) ? (GENERATORS as Record<string, InputGenerator>)[path] : undefined;
}

/** The paths of `procedures` that have no generator: empty, or the fuzz suite fails naming them. */
export function pathsWithoutGenerator(procedures: readonly { path: string }[], generators: Partial<Record<string, InputGenerator>>): string[] {
  return procedures.filter((p) => !Object.hasOwn(generators, p.path)).map((p) => p.path);
}

/** Inputs for one procedure: a quarter anything at all, the rest shaped like the real input. */
export function inputFor(world: FuzzWorld, path: ProcedurePath): fc.Arbitrary<Json | undefined> {
  const fields = generatorOf(path)?.fields;
  if (!fields) return anyInput;
  return fc.oneof({ weight: 1, arbitrary: anyInput }, { weight: 3, arbitrary: shaped(fields(world)) });
}

/** Paths that name no procedure, or name one in a way the router must not accept. */
export const bogusPath: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "", "__proto__", "constructor", "prototype", "toString", "auth", "auth.", ".auth.me", "auth..me", "auth.me.", "auth.__proto__",
    "__proto__.polluted", "constructor.prototype", "auth.constructor", "AUTH.ME", "auth.me ", "auth/me", "message.live.x", "admin.dropEverything",
    "_def", "_def.procedures", "createCaller", "router._def",
  ),
  fc.string({ unit: hostileUnit, maxLength: 30 }),
);

/** The Authorization header a token travels in, sometimes mangled. */
export function authorizationHeader(token: string | undefined, style: number): string | undefined {
  if (token === undefined) return undefined;
  const ascii = token.replace(/[^\x20-\x7e]/g, "?");
  const styles = [
    `Bearer ${ascii}`,
    `Bearer ${ascii}`,
    `Bearer ${ascii}`,
    `bearer ${ascii}`,
    `Bearer  ${ascii}`,
    `Basic ${ascii}`,
    ascii,
    `Bearer ${ascii} extra`,
    "Bearer",
  ];
  return styles[style % styles.length];
}

/** Every UTF-16 surrogate that is not half of a pair. */
export const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
