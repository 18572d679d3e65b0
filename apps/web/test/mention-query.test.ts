import { describe, expect, it } from "vitest";
import { insertMention, matchMembers, mentionQueryAt } from "../src/lib/mention-query";
import type { Member } from "@parley/client";

const member = (id: string, username: string, fullName: string): Member => ({ id, username, fullName, role: "member", lastReadMessageId: null });
const members = [member("me", "kim", "Kim Yoon"), member("b", "bob", "Bob Stone"), member("l", "lena", "Lena Berg"), member("s", "sam", "Bobby Sam")];

describe("mentionQueryAt", () => {
  it("finds an @ being typed at the caret, at the start or after a space", () => {
    expect(mentionQueryAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQueryAt("hi @le", 6)).toEqual({ start: 3, query: "le" });
    expect(mentionQueryAt("hi @le and more", 6)).toEqual({ start: 3, query: "le" });
  });

  it("ignores an address, a finished mention and text after a space", () => {
    expect(mentionQueryAt("me@exa", 6)).toBeNull();
    expect(mentionQueryAt("@lena ", 6)).toBeNull();
    expect(mentionQueryAt("plain", 5)).toBeNull();
  });
});

describe("matchMembers", () => {
  it("offers others by username or a word of their name, usernames first, never the reader", () => {
    expect(matchMembers(members, "bo", "me").map((m) => m.username)).toEqual(["bob", "sam"]);
    expect(matchMembers(members, "BERG", "me").map((m) => m.username)).toEqual(["lena"]);
    expect(matchMembers(members, "", "me").map((m) => m.username)).toEqual(["bob", "lena", "sam"]);
    expect(matchMembers(members, "kim", "me")).toEqual([]);
  });
});

describe("insertMention", () => {
  it("replaces what was typed with the username and a space, the caret after it", () => {
    expect(insertMention("hi @le", { start: 3, query: "le" }, 6, "lena")).toEqual({ text: "hi @lena ", caret: 9 });
    expect(insertMention("hi @le see you", { start: 3, query: "le" }, 6, "lena")).toEqual({ text: "hi @lena see you", caret: 9 });
  });
});
