import { describe, expect, it } from "vitest";
import { switcherMatches } from "../src/lib/conversations";
import { isQuickSwitcherShortcut, listboxIndex, quickSwitcherKeys, rovingIndex } from "../src/lib/keyboard";
import type { Conversation, User } from "@parley/client";

const me: User = { id: "me", username: "kim", fullName: "Kim Yoon" };
const person = (id: string, username: string, fullName: string): User => ({ id, username, fullName });

function conversation(id: string, title: string | null, others: User[]): Conversation {
  const members = [me, ...others].map((user) => ({ ...user, role: "member" as const, lastReadMessageId: null }));
  return {
    id,
    title,
    isDirect: title === null && others.length === 1,
    members,
    memberCount: members.length,
    lastMessage: null,
    createdAt: "2025-03-01T00:00:00.000Z",
    lastReadMessageId: null,
    unreadCount: 0,
    mentionCount: 0,
    notify: "all",
  };
}

describe("isQuickSwitcherShortcut", () => {
  const key = (k: string, mods: Partial<Record<"ctrlKey" | "metaKey" | "altKey" | "shiftKey", boolean>> = {}) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    ...mods,
  });
  it("is Ctrl+K or Cmd+K, in either case, and nothing else", () => {
    expect(isQuickSwitcherShortcut(key("k", { ctrlKey: true }))).toBe(true);
    expect(isQuickSwitcherShortcut(key("K", { metaKey: true }))).toBe(true);
    expect(isQuickSwitcherShortcut(key("k"))).toBe(false);
    expect(isQuickSwitcherShortcut(key("k", { ctrlKey: true, shiftKey: true }))).toBe(false);
    expect(isQuickSwitcherShortcut(key("k", { ctrlKey: true, altKey: true }))).toBe(false);
    expect(isQuickSwitcherShortcut(key("j", { ctrlKey: true }))).toBe(false);
  });
  it("is written the platform's way", () => {
    expect(quickSwitcherKeys("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)")).toBe("⌘K");
    expect(quickSwitcherKeys("Mozilla/5.0 (X11; Linux x86_64)")).toBe("Ctrl+K");
  });
});

describe("rovingIndex", () => {
  it("moves by one and stops at the ends; Home and End jump; other keys are not its business", () => {
    expect(rovingIndex("ArrowDown", 0, 3)).toBe(1);
    expect(rovingIndex("ArrowDown", 2, 3)).toBe(2);
    expect(rovingIndex("ArrowUp", 0, 3)).toBe(0);
    expect(rovingIndex("ArrowUp", 2, 3)).toBe(1);
    expect(rovingIndex("Home", 2, 3)).toBe(0);
    expect(rovingIndex("End", 0, 3)).toBe(2);
    expect(rovingIndex("Enter", 1, 3)).toBeNull();
    expect(rovingIndex("ArrowDown", 0, 0)).toBeNull();
  });
});

describe("listboxIndex", () => {
  it("wraps around at both ends", () => {
    expect(listboxIndex("ArrowDown", 2, 3)).toBe(0);
    expect(listboxIndex("ArrowUp", 0, 3)).toBe(2);
    expect(listboxIndex("ArrowDown", 0, 3)).toBe(1);
    expect(listboxIndex("Home", 1, 3)).toBeNull();
    expect(listboxIndex("ArrowDown", 0, 0)).toBeNull();
  });
});

describe("switcherMatches", () => {
  const lena = person("l", "lena", "Lena Park");
  const marco = person("m", "marco", "Marco Rossi");
  const nadia = person("n", "nadia", "Nadia Haddad");
  // Most recent activity first.
  const list = [conversation("1", null, [lena]), conversation("2", null, [marco]), conversation("3", "Roadmap", [nadia, lena])];

  it("ranks a title starting with the text, then a word of it, then any other match, keeping activity order within each", () => {
    expect(switcherMatches(list, "r", me.id, 10).map((c) => c.id)).toEqual(["3", "2", "1"]);
    expect(switcherMatches(list, "  RO ", me.id, 10).map((c) => c.id)).toEqual(["3", "2"]);
  });

  it("finds members by username and full name, not only the title", () => {
    expect(switcherMatches(list, "nadia", me.id, 10).map((c) => c.id)).toEqual(["3"]);
    expect(switcherMatches(list, "haddad", me.id, 10).map((c) => c.id)).toEqual(["3"]);
  });

  it("shows the most recent conversations for empty text, and at most `limit`", () => {
    expect(switcherMatches(list, "", me.id, 2).map((c) => c.id)).toEqual(["1", "2"]);
    expect(switcherMatches(list, "a", me.id, 1)).toHaveLength(1);
    expect(switcherMatches(list, "zzz", me.id, 10)).toEqual([]);
  });
});
