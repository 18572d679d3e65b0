// The input rules of docs/api.md, checked where they live: the zod schemas procedures parse with.
import { describe, expect, it } from "vitest";
import {
  CONVERSATION_PAGE_MAX,
  createConversationInput,
  fullNameSchema,
  isBlankText,
  listConversationsInput,
  listUsersInput,
  MAX_MEMBER_IDS,
  messageContentSchema,
  searchUsersInput,
  titleSchema,
  USER_PAGE_MAX,
  USER_SEARCH_DEFAULT,
  USER_SEARCH_MAX,
  listMessagesInput,
  loginInput,
  messageIdSchema,
  passwordSchema,
  sendMessageInput,
  signupInput,
  usernameSchema,
} from "../src/schemas.js";

const send = (fields: { content?: string; clientMessageId?: string }) =>
  sendMessageInput.safeParse({ conversationId: "c1", content: "hello", clientMessageId: "m1", ...fields });

const list = (fields: { limit?: number }) => listMessagesInput.safeParse({ conversationId: "c1", ...fields });

describe("username", () => {
  it.each(["abc", "a".repeat(32), "Alice_B.c-9"])("accepts %j", (name) => {
    expect(usernameSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    ["2 characters", "ab"],
    ["33 characters", "a".repeat(33)],
    ["a space", "ali ce"],
    ["an @", "ali@ce"],
    ["a non-ASCII letter", "alicé"],
    ["a slash", "ali/ce"],
  ])("rejects a name with %s", (_why, name) => {
    expect(usernameSchema.safeParse(name).success).toBe(false);
  });

  it("is lower-cased on parse", () => {
    expect(usernameSchema.parse("AliCe")).toBe("alice");
  });

  it("is lower-cased at signup", () => {
    expect(signupInput.parse({ username: "AliCe", password: "password" }).username).toBe("alice");
  });

  it("is lower-cased at login, so either spelling logs in", () => {
    expect(loginInput.parse({ username: "AliCe", password: "password" }).username).toBe("alice");
  });
});

describe("password", () => {
  it.each([8, 128])("accepts %i characters", (length) => {
    expect(passwordSchema.safeParse("p".repeat(length)).success).toBe(true);
  });

  it.each([7, 129])("rejects %i characters", (length) => {
    expect(passwordSchema.safeParse("p".repeat(length)).success).toBe(false);
  });

  it("is kept exactly as given, white space included", () => {
    expect(passwordSchema.parse("  pass word  ")).toBe("  pass word  ");
  });
});

describe("fullName", () => {
  it('defaults to ""', () => {
    expect(signupInput.parse({ username: "alice", password: "password" }).fullName).toBe("");
  });

  it("accepts 100 characters", () => {
    expect(signupInput.safeParse({ username: "alice", password: "password", fullName: "f".repeat(100) }).success).toBe(true);
  });

  it("rejects 101 characters", () => {
    expect(signupInput.safeParse({ username: "alice", password: "password", fullName: "f".repeat(101) }).success).toBe(false);
  });
});

describe("message content", () => {
  it.each([1, 4000])("accepts %i characters", (length) => {
    expect(send({ content: "c".repeat(length) }).success).toBe(true);
  });

  it.each([0, 4001])("rejects %i characters", (length) => {
    expect(send({ content: "c".repeat(length) }).success).toBe(false);
  });

  it("rejects content that is only white space", () => {
    expect(send({ content: " \t\n  " }).success).toBe(false);
  });

  it("keeps surrounding white space of real content", () => {
    const parsed = send({ content: "  hi  " });
    expect(parsed.success && parsed.data.content).toBe("  hi  ");
  });
});

describe("clientMessageId", () => {
  it.each([1, 64])("accepts %i characters", (length) => {
    expect(send({ clientMessageId: "m".repeat(length) }).success).toBe(true);
  });

  it.each([0, 65])("rejects %i characters", (length) => {
    expect(send({ clientMessageId: "m".repeat(length) }).success).toBe(false);
  });
});

describe("message.list limit", () => {
  it("defaults to 50", () => {
    const parsed = list({});
    expect(parsed.success && parsed.data.limit).toBe(50);
  });

  it.each([1, 100])("accepts %i", (limit) => {
    expect(list({ limit }).success).toBe(true);
  });

  it.each([0, 101, 1.5])("rejects %s", (limit) => {
    expect(list({ limit }).success).toBe(false);
  });
});

describe("messageIdSchema", () => {
  it.each(["1", "42", "9223372036854775807"])("accepts %j", (id) => {
    expect(messageIdSchema.safeParse(id).success).toBe(true);
  });

  it.each(["0", "01", "-1", "", "9223372036854775808", "99999999999999999999"])("rejects %j", (id) => {
    expect(messageIdSchema.safeParse(id).success).toBe(false);
  });

  it.each(["abc", "1.5"])("rejects %j with a validation issue rather than throwing", (id) => {
    expect(messageIdSchema.safeParse(id).success).toBe(false);
  });
});

describe("text every database can store", () => {
  it.each([
    ["an unpaired high surrogate", "abc\uD800"],
    ["an unpaired low surrogate", "\uDC00abc"],
    ["a NUL character", "abc\u0000def"],
  ])("message content, clientMessageId, ids, titles and names refuse %s", (_, bad) => {
    expect(sendMessageInput.safeParse({ conversationId: "c1", content: bad, clientMessageId: "m" }).success).toBe(false);
    expect(sendMessageInput.safeParse({ conversationId: "c1", content: "fine", clientMessageId: bad }).success).toBe(false);
    expect(sendMessageInput.safeParse({ conversationId: bad, content: "fine", clientMessageId: "m" }).success).toBe(false);
    expect(createConversationInput.safeParse({ title: bad, memberIds: ["u"] }).success).toBe(false);
    expect(signupInput.safeParse({ username: "valid", password: "long enough", fullName: bad }).success).toBe(false);
    expect(loginInput.safeParse({ username: bad, password: "long enough" }).success).toBe(false);
  });

  it("accepts paired surrogates (emoji) and other Unicode", () => {
    expect(sendMessageInput.safeParse({ conversationId: "c1", content: "ship it \uD83D\uDE80 \u00e9\u4e2d", clientMessageId: "m" }).success).toBe(true);
  });
});

describe("message.send with attachments", () => {
  const send = (content: string, attachmentIds?: string[]) => sendMessageInput.safeParse({ conversationId: "c1", content, clientMessageId: "m", ...(attachmentIds ? { attachmentIds } : {}) });

  it.each(["", " ", "\u200B\n"])("takes blank content %j beside files, stored as empty", (content) => {
    const parsed = send(content, ["a"]);
    expect(parsed.success && parsed.data.content).toBe("");
  });

  it.each(["", " ", "\u200B\n"])("still refuses blank content %j without files, with the v1 message", (content) => {
    const parsed = send(content, []);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join("."), i.message])).toContainEqual(["content", content === "" ? "message must be 1 to 4000 characters" : "message must not be only white space"]);
  });

  it("keeps text beside files as send does without them (NFC), and its limits", () => {
    const parsed = send("cafe\u0301", ["a"]);
    expect(parsed.success && parsed.data.content).toBe("caf\u00e9");
    expect(send("x".repeat(4001), ["a"]).success).toBe(false);
  });

  it("takes at most 10 attachment ids, each once", () => {
    expect(send("hi", Array.from({ length: 10 }, (_, i) => `a${i}`)).success).toBe(true);
    expect(send("hi", Array.from({ length: 11 }, (_, i) => `a${i}`)).success).toBe(false);
    expect(send("hi", ["a", "a"]).success).toBe(false);
    expect(send("hi", [""]).success).toBe(false);
  });
});

// Characters that change how text is displayed without being seen (Unicode Cf), and control characters.
const DECEIVING = [
  ["a right-to-left override", "\u202E"],
  ["a left-to-right embedding", "\u202A"],
  ["a pop directional formatting", "\u202C"],
  ["a right-to-left isolate", "\u2067"],
  ["a pop directional isolate", "\u2069"],
  ["a zero-width space", "\u200B"],
  ["a zero-width non-joiner", "\u200C"],
  ["a zero-width joiner", "\u200D"],
  ["a left-to-right mark", "\u200E"],
  ["a right-to-left mark", "\u200F"],
  ["a word joiner", "\u2060"],
  ["a byte order mark", "\uFEFF"],
  ["a soft hyphen", "\u00AD"],
  ["an Arabic letter mark", "\u061C"],
  ["a tag character", "\u{E0041}"],
  ["a tab", "\t"],
  ["a newline", "\n"],
  ["an escape", "\u001B"],
  ["a DEL", "\u007F"],
  ["a C1 control", "\u0085"],
  ["a line separator", "\u2028"],
] as const;

describe.each([
  ["full name", fullNameSchema],
  ["title", titleSchema],
])("%s (displayName text)", (what, schema) => {
  it.each(DECEIVING)(`refuses ${what} with %s inside, saying why`, (_why, char) => {
    const parsed = schema.safeParse(`ali${char}ce`);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(`${what} must not contain invisible formatting or control characters (such as bidi overrides or zero-width spaces)`);
  });

  it("is normalised to NFC, so the same visible name is the same stored name", () => {
    expect(schema.parse("Jose\u0301")).toBe("Jos\u00E9");
  });

  it("counts length after NFC: 100 decomposed letters that compose to 100 characters are accepted", () => {
    expect(schema.safeParse("e\u0301".repeat(100)).success).toBe(true);
  });

  it("is trimmed, and white space alone becomes empty", () => {
    expect(schema.parse("  Alice  ")).toBe("Alice");
    expect(schema.parse(" \u00A0 ")).toBe("");
  });

  it("refuses only invisible letters (Hangul fillers, blank braille)", () => {
    expect(schema.safeParse("\u3164\u3164").success).toBe(false);
    expect(schema.safeParse("\u2800").success).toBe(false);
  });

  it.each(["Zoë Ünal", "Łukasz", "山田太郎", "محمد", "שלום", "Ana-María O'Neil", "Team 🚀"])("accepts %j", (name) => {
    expect(schema.safeParse(name).success).toBe(true);
  });

  it("accepts 100 characters and refuses 101", () => {
    expect(schema.safeParse("n".repeat(100)).success).toBe(true);
    expect(schema.safeParse("n".repeat(101)).success).toBe(false);
  });
});

describe("message content text", () => {
  it.each([
    ["zero-width spaces", "\u200B\u200B\u200B"],
    ["a byte order mark and white space", "\uFEFF \n"],
    ["bidi controls", "\u202E\u2066\u2069"],
    ["a soft hyphen", "\u00AD"],
    ["a zero-width joiner", "\u200D"],
    ["Hangul fillers", "\u3164\u3164"],
    ["control characters", "\u0001\u001B"],
  ])("refuses a message of only %s as white space", (_why, content) => {
    const parsed = messageContentSchema.safeParse(content);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe("message must not be only white space");
  });

  it("keeps format characters inside visible text (the zero-width joiner of an emoji sequence)", () => {
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    expect(messageContentSchema.parse(`our ${family}`)).toBe(`our ${family}`);
  });

  it("is normalised to NFC", () => {
    expect(messageContentSchema.parse("cafe\u0301")).toBe("caf\u00E9");
  });

  it("isBlankText is true for nothing visible and false for anything visible", () => {
    expect(isBlankText("")).toBe(true);
    expect(isBlankText(" \u200B\u2060\uFEFF")).toBe(true);
    expect(isBlankText("\u200Bx")).toBe(false);
  });
});

describe("conversation.create memberIds", () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
  it(`accepts ${MAX_MEMBER_IDS} ids`, () => {
    expect(createConversationInput.safeParse({ memberIds: ids(MAX_MEMBER_IDS) }).success).toBe(true);
  });

  it(`refuses ${MAX_MEMBER_IDS + 1} ids, saying the maximum`, () => {
    const parsed = createConversationInput.safeParse({ memberIds: ids(MAX_MEMBER_IDS + 1) });
    expect(parsed.error?.issues[0]?.message).toBe(`memberIds may name at most ${MAX_MEMBER_IDS} users`);
  });

  it("refuses a title with a bidi override", () => {
    expect(createConversationInput.safeParse({ title: "pay\u202Etxt.exe", memberIds: ["u"] }).success).toBe(false);
  });
});

describe("list and search inputs", () => {
  it("conversation.list takes no input, or a cursor and a limit of 1 to 100 (default 100)", () => {
    expect(listConversationsInput.parse(undefined)).toBeUndefined();
    expect(listConversationsInput.parse({})).toEqual({ limit: CONVERSATION_PAGE_MAX });
    expect(listConversationsInput.parse({ cursor: null, limit: 1 })).toEqual({ cursor: null, limit: 1 });
    for (const limit of [0, 101, 1.5]) expect(listConversationsInput.safeParse({ limit }).success).toBe(false);
  });

  it("user.list takes no input, or a cursor and a limit of 1 to 200 (default 200)", () => {
    expect(listUsersInput.parse(undefined)).toBeUndefined();
    expect(listUsersInput.parse({ cursor: "alice" })).toEqual({ cursor: "alice", limit: USER_PAGE_MAX });
    for (const limit of [0, 201, 2.5]) expect(listUsersInput.safeParse({ limit }).success).toBe(false);
  });

  it("user.search trims its query and needs 1 to 32 characters, limit 1 to 50 (default 20)", () => {
    expect(searchUsersInput.parse({ query: "  al " })).toEqual({ query: "al", limit: USER_SEARCH_DEFAULT });
    expect(searchUsersInput.safeParse({ query: "   " }).success).toBe(false);
    expect(searchUsersInput.safeParse({ query: "q".repeat(33) }).success).toBe(false);
    expect(searchUsersInput.safeParse({ query: "a", limit: USER_SEARCH_MAX + 1 }).success).toBe(false);
  });
});
