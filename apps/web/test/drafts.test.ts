import { describe, expect, it } from "vitest";
import { createDrafts, draftsKey } from "../src/lib/drafts";
import { fakeStorage } from "./helpers";

describe("drafts", () => {
  it("keeps each conversation's draft for the next page of the same user only", () => {
    const storage = fakeStorage();
    const drafts = createDrafts(storage, "u1");
    drafts.set("c1", "half a thought");
    drafts.set("c2", "another");
    const nextPage = createDrafts(storage, "u1");
    expect(nextPage.get("c1")).toBe("half a thought");
    expect(nextPage.get("c2")).toBe("another");
    expect(createDrafts(storage, "u2").get("c1")).toBeUndefined();
  });

  it("removes a sent draft, and everything on clear", () => {
    const storage = fakeStorage();
    const drafts = createDrafts(storage, "u1");
    drafts.set("c1", "a");
    drafts.set("c2", "b");
    drafts.delete("c1");
    expect(createDrafts(storage, "u1").get("c1")).toBeUndefined();
    drafts.clear();
    expect(storage.items.has(draftsKey("u1"))).toBe(false);
  });

  it("starts empty from a damaged value, and works without storage", () => {
    const storage = fakeStorage();
    storage.setItem(draftsKey("u1"), "{not json");
    expect(createDrafts(storage, "u1").get("c1")).toBeUndefined();
    const memoryOnly = createDrafts(null, "u1");
    memoryOnly.set("c1", "kept for this page");
    expect(memoryOnly.get("c1")).toBe("kept for this page");
  });
});
