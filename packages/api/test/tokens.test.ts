import jwt from "jsonwebtoken";
import { beforeEach, describe, expect, it } from "vitest";
import { TokenService } from "../src/auth/tokens.js";
import { defaultApiConfig } from "../src/context.js";
import { fakeClock, TEST_SECRET, type FakeClock } from "./helpers.js";

const USER = "user-1";
const SESSION = "session-1";
const ACCESS_TTL = defaultApiConfig.accessTtlSeconds;

let clock: FakeClock;
let tokens: TokenService;

beforeEach(() => {
  clock = fakeClock();
  tokens = new TokenService(
    { secret: TEST_SECRET, accessTtlSeconds: ACCESS_TTL, refreshTtlSeconds: defaultApiConfig.refreshTtlSeconds },
    clock,
  );
});

function nowSeconds(): number {
  return Math.floor(clock.now().getTime() / 1000);
}

/** exp - iat of a token, read without verifying it. */
function lifetimeSecondsOf(token: string): number {
  const decoded = jwt.decode(token);
  if (decoded === null || typeof decoded === "string" || decoded.exp === undefined || decoded.iat === undefined) {
    throw new Error("not a JWT with exp and iat");
  }
  return decoded.exp - decoded.iat;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Access-token claims as TokenService writes them, for tokens the tests sign by hand. */
function accessPayload(overrides: jwt.JwtPayload = {}): jwt.JwtPayload {
  const iat = nowSeconds();
  return { sid: SESSION, sub: USER, iss: "parley", aud: "parley:access", iat, exp: iat + ACCESS_TTL, ...overrides };
}

const TOKEN_ID = "token-1";

/** Refresh-token claims as TokenService writes them. */
function refreshPayload(overrides: jwt.JwtPayload = {}): jwt.JwtPayload {
  const iat = nowSeconds();
  const exp = iat + defaultApiConfig.refreshTtlSeconds;
  return { sid: SESSION, sub: USER, jti: TOKEN_ID, iss: "parley", aud: "parley:refresh", iat, exp, ...overrides };
}

function signByHand(payload: jwt.JwtPayload, options: { secret?: string; algorithm?: jwt.Algorithm } = {}): string {
  return jwt.sign(payload, options.secret ?? TEST_SECRET, { algorithm: options.algorithm ?? "HS256" });
}

describe("access tokens", () => {
  it("round-trip the user id and session id", () => {
    const claims = tokens.verifyAccess(tokens.issueAccess(USER, SESSION));
    expect(claims).toMatchObject({ userId: USER, sessionId: SESSION });
  });

  it("live 30 minutes", () => {
    expect(lifetimeSecondsOf(tokens.issueAccess(USER, SESSION))).toBe(30 * 60);
  });

  it("report their expiry time", () => {
    const claims = tokens.verifyAccess(tokens.issueAccess(USER, SESSION));
    expect(claims?.expiresAt).toBe(nowSeconds() + 30 * 60);
  });

  it("are still accepted one second before they expire", () => {
    const token = tokens.issueAccess(USER, SESSION);
    clock.advanceSeconds(ACCESS_TTL - 1);
    expect(tokens.verifyAccess(token)).not.toBeNull();
  });

  it("are refused once the clock passes their expiry", () => {
    const token = tokens.issueAccess(USER, SESSION);
    clock.advanceSeconds(ACCESS_TTL + 1);
    expect(tokens.verifyAccess(token)).toBeNull();
  });

  it("are refused by verifyRefresh", () => {
    expect(tokens.verifyRefresh(tokens.issueAccess(USER, SESSION))).toBeNull();
  });
});

describe("refresh tokens", () => {
  it("round-trip the user id, session id and token id", () => {
    const issued = tokens.issueRefresh(USER, SESSION);
    expect(tokens.verifyRefresh(issued.token)).toMatchObject({ userId: USER, sessionId: SESSION, tokenId: issued.tokenId });
  });

  it("live 7 days", () => {
    expect(lifetimeSecondsOf(tokens.issueRefresh(USER, SESSION).token)).toBe(7 * 24 * 60 * 60);
  });

  it("report an expiry, for the stored row, that matches the token's own", () => {
    const issued = tokens.issueRefresh(USER, SESSION);
    expect(issued.expiresAt.getTime()).toBe((nowSeconds() + defaultApiConfig.refreshTtlSeconds) * 1000);
    expect(tokens.verifyRefresh(issued.token)?.expiresAt).toBe(issued.expiresAt.getTime() / 1000);
  });

  it("are refused once the clock passes their expiry", () => {
    const { token } = tokens.issueRefresh(USER, SESSION);
    clock.advanceSeconds(defaultApiConfig.refreshTtlSeconds + 1);
    expect(tokens.verifyRefresh(token)).toBeNull();
  });

  it("get a different token id each time", () => {
    expect(tokens.issueRefresh(USER, SESSION).tokenId).not.toBe(tokens.issueRefresh(USER, SESSION).tokenId);
  });

  it("are refused by verifyAccess", () => {
    expect(tokens.verifyAccess(tokens.issueRefresh(USER, SESSION).token)).toBeNull();
  });
});

describe("tokens not issued by this service", () => {
  // The control for every forged token below: the same hand-made claims, signed correctly, pass.
  it("are accepted when signed by hand exactly as the service signs them", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload()))).toMatchObject({ userId: USER, sessionId: SESSION });
  });

  it("are refused before their not-before time", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ nbf: nowSeconds() + 60 })))).toBeNull();
  });

  it('are refused with alg "none" and no signature', () => {
    const unsigned = `${base64url({ alg: "none", typ: "JWT" })}.${base64url(accessPayload())}.`;
    expect(tokens.verifyAccess(unsigned)).toBeNull();
  });

  it.each(["HS384", "HS512"] as const)("are refused when signed with %s and the same secret", (algorithm) => {
    expect(tokens.verifyAccess(signByHand(accessPayload(), { algorithm }))).toBeNull();
  });

  it("are refused when signed with another key", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload(), { secret: "y".repeat(40) }))).toBeNull();
  });

  it("are refused with another issuer", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ iss: "someone-else" })))).toBeNull();
  });

  it("are refused with another audience", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ aud: "someone-else" })))).toBeNull();
  });

  it("are refused without a session id", () => {
    const { sid: _sid, ...withoutSession } = accessPayload();
    expect(tokens.verifyAccess(signByHand(withoutSession))).toBeNull();
  });

  // jsonwebtoken checks `exp` only when it is present: without this check such a token never expires.
  it("are refused without an expiry", () => {
    const { exp: _exp, ...withoutExpiry } = accessPayload();
    expect(tokens.verifyAccess(signByHand(withoutExpiry))).toBeNull();
  });

  it("are refused without a subject", () => {
    const { sub: _sub, ...withoutSubject } = accessPayload();
    expect(tokens.verifyAccess(signByHand(withoutSubject))).toBeNull();
  });

  it("are refused with a subject that is not a string", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ sub: 42 as unknown as string })))).toBeNull();
  });
});

describe("a secret given as bytes", () => {
  it("signs and verifies like the same secret given as a string", () => {
    const fromBytes = new TokenService(
      { secret: Buffer.from(TEST_SECRET), accessTtlSeconds: ACCESS_TTL, refreshTtlSeconds: defaultApiConfig.refreshTtlSeconds },
      clock,
    );
    expect(tokens.verifyAccess(fromBytes.issueAccess(USER, SESSION))).toMatchObject({ userId: USER, sessionId: SESSION });
    expect(fromBytes.verifyAccess(signByHand(accessPayload()))).toMatchObject({ userId: USER });
  });
});

describe("refresh tokens not issued by this service", () => {
  it("are accepted when signed by hand exactly as the service signs them", () => {
    expect(tokens.verifyRefresh(signByHand(refreshPayload()))).toEqual({
      userId: USER,
      sessionId: SESSION,
      tokenId: TOKEN_ID,
      expiresAt: nowSeconds() + defaultApiConfig.refreshTtlSeconds,
    });
  });

  it.each(["jti", "sid", "exp", "sub"] as const)("are refused without %s", (claim) => {
    const { [claim]: _dropped, ...rest } = refreshPayload();
    expect(tokens.verifyRefresh(signByHand(rest))).toBeNull();
  });

  it("are refused with a token id that is not a string", () => {
    expect(tokens.verifyRefresh(signByHand(refreshPayload({ jti: 7 as unknown as string })))).toBeNull();
  });

  it("are refused with the access audience", () => {
    expect(tokens.verifyRefresh(signByHand(refreshPayload({ aud: "parley:access" })))).toBeNull();
  });
});

describe("malformed tokens", () => {
  it.each([
    ["an empty string", ""],
    ["one segment", "abc"],
    ["three segments that are not base64 JSON", "a.b.c"],
    ["a 10 KB string", "a".repeat(10 * 1024)],
  ])("%s is refused", (_name, token) => {
    expect(tokens.verifyAccess(token)).toBeNull();
    expect(tokens.verifyRefresh(token)).toBeNull();
  });

  it("a correctly signed token of exactly 4 KB is still accepted", () => {
    // base64url grows in steps of four characters, so the padding is found by trying the few lengths around it.
    const withPadding = (length: number) => signByHand(accessPayload({ padding: "p".repeat(length) }));
    const guess = Math.floor(((4096 - withPadding(0).length) * 3) / 4);
    const token = [0, 1, 2, 3, -1, -2, -3].map((delta) => withPadding(guess + delta)).find((t) => t.length === 4096);
    expect(token).toBeDefined();
    expect(tokens.verifyAccess(token ?? "")).not.toBeNull();
  });

  it("a correctly signed token longer than 4 KB is refused", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ padding: "p".repeat(5000) })))).toBeNull();
  });
});
