import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/backoff";

describe("backoffDelay", () => {
  it("doubles the window with each attempt", () => {
    const low = (attempt: number) => backoffDelay(attempt, { baseMs: 500, random: () => 0 });
    expect([0, 1, 2, 3].map(low)).toEqual([250, 500, 1000, 2000]);
  });

  it("spreads retries over the upper half of the window", () => {
    expect(backoffDelay(2, { baseMs: 500, random: () => 0 })).toBe(1000);
    expect(backoffDelay(2, { baseMs: 500, random: () => 0.999999 })).toBe(2000);
  });

  it("never waits longer than the cap", () => {
    expect(backoffDelay(50, { baseMs: 500, maxMs: 30_000, random: () => 0.999999 })).toBe(30_000);
  });

  it("never retries immediately", () => {
    expect(backoffDelay(0, { random: () => 0 })).toBeGreaterThan(0);
  });
});
