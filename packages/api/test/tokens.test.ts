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

  it("a correctly signed token longer than 4 KB is refused", () => {
    expect(tokens.verifyAccess(signByHand(accessPayload({ padding: "p".repeat(5000) })))).toBeNull();
  });
});
