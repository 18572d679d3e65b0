import { describe, expect, it } from "vitest";
import { decodeJwtClaims } from "../src/jwt";
import { MAX_REFRESH_LEAD_MS, isRefreshDue, refreshAt, refreshDelay, tokenTiming } from "../src/refresh-schedule";
import { fakeJwt } from "./helpers";

const THIRTY_MINUTES = 30 * 60;

describe("decodeJwtClaims", () => {
  it("reads sub, iat and exp", () => {
    expect(decodeJwtClaims(fakeJwt({ sub: "u1", iat: 100, exp: 200, sid: "s" }))).toEqual({ sub: "u1", iat: 100, exp: 200 });
  });

  it("returns null for something that is not a JWT", () => {
    expect(decodeJwtClaims("nonsense")).toBeNull();
    expect(decodeJwtClaims("a.%%%.c")).toBeNull();
  });
});

describe("refresh schedule", () => {
  it("refreshes a 30-minute token one minute before it expires", () => {
    const timing = tokenTiming(fakeJwt({ iat: 1_000, exp: 1_000 + THIRTY_MINUTES }), 50_000);
    expect(timing).not.toBeNull();
    expect(refreshAt(timing!)).toBe(50_000 + THIRTY_MINUTES * 1000 - MAX_REFRESH_LEAD_MS);
  });

  it("refreshes a short-lived token when a fifth of its life is left", () => {
    const timing = tokenTiming(fakeJwt({ iat: 0, exp: 10 }), 0)!;
    expect(refreshAt(timing)).toBe(8_000);
  });

  it("measures from when the token was received, so a wrong local clock does not matter", () => {
    // The server's clock says 1970; the browser's says 2025. The token is still fresh.
    const receivedAt = Date.parse("2025-03-10T12:00:00Z");
    const timing = tokenTiming(fakeJwt({ iat: 0, exp: THIRTY_MINUTES }), receivedAt)!;
    expect(isRefreshDue(timing, receivedAt + 60_000)).toBe(false);
    expect(refreshDelay(timing, receivedAt)).toBe(THIRTY_MINUTES * 1000 - MAX_REFRESH_LEAD_MS);
  });

  it("is due at once when the token is already past its refresh time", () => {
    const timing = tokenTiming(fakeJwt({ iat: 0, exp: THIRTY_MINUTES }), 0)!;
    expect(isRefreshDue(timing, THIRTY_MINUTES * 1000)).toBe(true);
    expect(refreshDelay(timing, THIRTY_MINUTES * 1000 + 5_000)).toBe(0);
  });

  it("treats a token it cannot read as due", () => {
    expect(tokenTiming("not-a-token", 0)).toBeNull();
    expect(isRefreshDue(null, 0)).toBe(true);
    expect(refreshDelay(null, 0)).toBe(0);
  });

  it("falls back to the local clock when the token has no iat", () => {
    const timing = tokenTiming(fakeJwt({ exp: 1_000 }), 400_000)!;
    expect(timing.lifetimeMs).toBe(600_000);
  });
});
