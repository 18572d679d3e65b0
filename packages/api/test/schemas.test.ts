// contract.md's validation rules, checked where they live: the zod schemas procedures parse with.
import { describe, expect, it } from "vitest";
import {
  createConversationInput,
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
