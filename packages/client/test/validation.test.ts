import { describe, expect, it } from "vitest";
import { checkMessage, usernameProblem } from "../src/validation";

describe("checkMessage", () => {
  it("refuses white space and text over 4,000 characters", () => {
    expect(checkMessage("   \n").sendable).toBe(false);
    expect(checkMessage("hi").sendable).toBe(true);
    expect(checkMessage("x".repeat(4000), "en-US")).toMatchObject({ sendable: true, tooLong: false, counter: "4,000 / 4,000" });
    expect(checkMessage("x".repeat(4001))).toMatchObject({ sendable: false, tooLong: true });
  });

  it("refuses text of only invisible characters, as the server does", () => {
    expect(checkMessage("\u200b\u200b").sendable).toBe(false);
    expect(checkMessage("\u2066\u202e \u3164").sendable).toBe(false);
    expect(checkMessage("\u{1F469}\u200d\u{1F4BB}").sendable).toBe(true);
  });

  it("counts the characters the server counts, after NFC", () => {
    // Each "e" plus a combining acute accent is one character once composed.
    expect(checkMessage("e\u0301".repeat(3000), "en-US")).toMatchObject({ sendable: true, tooLong: false, counter: "3,000 / 4,000" });
  });

  it("shows the counter only near the limit", () => {
    expect(checkMessage("hello").counter).toBeNull();
    expect(checkMessage("x".repeat(3000), "en-US").counter).toBe("3,000 / 4,000");
  });
});

describe("usernameProblem", () => {
  it("follows the contract's rules", () => {
    expect(usernameProblem("ab")).not.toBeNull();
    expect(usernameProblem("a b c")).not.toBeNull();
    expect(usernameProblem("Alice.B-1_x")).toBeNull();
  });
});
