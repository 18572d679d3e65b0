// Access and refresh tokens: JWT HS256 with the algorithm pinned and issuer and audience checked.
// The two kinds have different audiences, so neither is ever accepted in place of the other.
import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import type { Clock } from "../clock.js";

const ISSUER = "parley";
const ACCESS_AUDIENCE = "parley:access";
const REFRESH_AUDIENCE = "parley:refresh";

export interface AccessClaims {
  userId: string;
  sessionId: string;
  /** Expiry, in seconds since the epoch. */
  expiresAt: number;
}

export interface RefreshClaims {
  userId: string;
  sessionId: string;
  tokenId: string;
  expiresAt: number;
}

export interface TokenConfig {
  secret: string | Buffer;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export class TokenService {
  // A KeyObject, not a string: given a string, jsonwebtoken first tries to parse it as a PEM key
  // on every call, which was a third of the CPU of verifying.
  private readonly key: KeyObject;

  constructor(
    private readonly config: TokenConfig,
    private readonly clock: Clock,
  ) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: createSecretKey reads a string as UTF-8 itself (the types want the Buffer)
    this.key = createSecretKey(typeof config.secret === "string" ? Buffer.from(config.secret) : config.secret);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  issueAccess(userId: string, sessionId: string): string {
    const iat = this.nowSeconds();
    return jwt.sign({ sid: sessionId, iat, exp: iat + this.config.accessTtlSeconds }, this.key, {
      algorithm: "HS256",
      issuer: ISSUER,
      audience: ACCESS_AUDIENCE,
      subject: userId,
    });
  }

  issueRefresh(userId: string, sessionId: string): { token: string; tokenId: string; expiresAt: Date } {
    const iat = this.nowSeconds();
    const exp = iat + this.config.refreshTtlSeconds;
    const tokenId = randomUUID();
    const token = jwt.sign({ sid: sessionId, iat, exp }, this.key, {
      algorithm: "HS256",
      issuer: ISSUER,
      audience: REFRESH_AUDIENCE,
      subject: userId,
      jwtid: tokenId,
    });
    return { token, tokenId, expiresAt: new Date(exp * 1000) };
  }

  /** The claims of a valid access token, or null for anything else. */
  verifyAccess(token: string): AccessClaims | null {
    const payload = this.verify(token, ACCESS_AUDIENCE);
    if (!payload || typeof payload.sid !== "string") return null;
    return { userId: payload.sub, sessionId: payload.sid, expiresAt: payload.exp };
  }

  /** The claims of a valid refresh token, or null for anything else. */
  verifyRefresh(token: string): RefreshClaims | null {
    const payload = this.verify(token, REFRESH_AUDIENCE);
    if (!payload || typeof payload.sid !== "string" || typeof payload.jti !== "string") return null;
    return { userId: payload.sub, sessionId: payload.sid, tokenId: payload.jti, expiresAt: payload.exp };
  }

  private verify(token: string, audience: string): (jwt.JwtPayload & { sub: string; exp: number }) | null {
    if (token.length > 4096) return null;
    try {
      const payload = jwt.verify(token, this.key, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience,
        clockTimestamp: this.nowSeconds(),
      });
      if (typeof payload === "string" || typeof payload.sub !== "string" || typeof payload.exp !== "number") return null;
      return payload as jwt.JwtPayload & { sub: string; exp: number };
    } catch {
      return null;
    }
  }
}
