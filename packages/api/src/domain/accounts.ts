import { isUniqueViolation } from "@parley/db";
import type { Services } from "../context.js";
import { BAD_CREDENTIALS, BAD_TOKEN, DomainError } from "../errors.js";
import type { TokensDto, UserDto } from "../schemas.js";
import { publicUserSelect } from "./selects.js";

export async function signUp(
  services: Services,
  input: { username: string; password: string; fullName: string },
): Promise<UserDto> {
  const existing = await services.db.prisma.user.findUnique({ where: { username: input.username }, select: { id: true } });
  if (existing) throw new DomainError("conflict", "That username is taken");
  const passwordHash = await services.passwords.hash(input.password);
  try {
    return await services.db.prisma.user.create({
      data: { username: input.username, fullName: input.fullName, passwordHash },
      select: publicUserSelect,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("conflict", "That username is taken");
    throw error;
  }
}

export async function logIn(
  services: Services,
  input: { username: string; password: string },
  clientAddress: string,
): Promise<TokensDto> {
  const { db, passwords, loginFailuresByAccount, loginFailuresByAddress } = services;
  const accountKey = input.username;
  const wait = Math.max(loginFailuresByAccount.retryAfter(accountKey), loginFailuresByAddress.retryAfter(clientAddress));
  if (wait > 0) {
    throw new DomainError("rate_limited", `Too many failed logins. Try again in ${wait} seconds.`, wait);
  }
  const user = await db.prisma.user.findUnique({ where: { username: input.username }, select: { id: true, passwordHash: true } });
  const valid = user ? await passwords.verify(user.passwordHash, input.password) : await passwords.verifyDummy(input.password);
  if (!user || !valid) {
    loginFailuresByAccount.record(accountKey);
    loginFailuresByAddress.record(clientAddress);
    throw new DomainError("unauthenticated", BAD_CREDENTIALS);
  }
  loginFailuresByAccount.clear(accountKey);
  if (passwords.needsRehash(user.passwordHash)) {
    // The cost was raised since this hash was made: upgrade it now that we know the password.
    await db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: await passwords.hash(input.password) } });
  }
  const session = await db.prisma.session.create({ data: { userId: user.id }, select: { id: true } });
  return issueTokens(services, user.id, session.id);
}

async function issueTokens(services: Services, userId: string, sessionId: string): Promise<TokensDto> {
  const refresh = services.tokens.issueRefresh(userId, sessionId);
  await services.db.prisma.refreshToken.create({ data: { id: refresh.tokenId, sessionId, expiresAt: refresh.expiresAt } });
  return { accessToken: services.tokens.issueAccess(userId, sessionId), refreshToken: refresh.token };
}

/**
 * Exchanges a refresh token for a new pair. Each refresh token works once: the first caller marks
 * it used (atomically, so of two concurrent refreshes exactly one wins). Presenting a used token
 * again means it was copied, so the whole session - every token issued from that login - is revoked.
 */
export async function refreshTokens(services: Services, refreshToken: string): Promise<TokensDto> {
  const { db, tokens, clock } = services;
  const claims = tokens.verifyRefresh(refreshToken);
  if (!claims) throw new DomainError("unauthenticated", BAD_TOKEN);
  const session = await db.prisma.session.findUnique({ where: { id: claims.sessionId }, select: { revokedAt: true } });
  if (!session || session.revokedAt) throw new DomainError("unauthenticated", BAD_TOKEN);
  const marked = await db.prisma.refreshToken.updateMany({
    where: { id: claims.tokenId, sessionId: claims.sessionId, usedAt: null },
    data: { usedAt: clock.now() },
  });
  if (marked.count !== 1) {
    await revokeSession(services, claims.sessionId);
    throw new DomainError("unauthenticated", BAD_TOKEN);
  }
  return issueTokens(services, claims.userId, claims.sessionId);
}

/** Ends the session of the given refresh token: it and every token of that login stop working. */
export async function logOut(services: Services, refreshToken: string): Promise<{ ok: true }> {
  const claims = services.tokens.verifyRefresh(refreshToken);
  if (!claims) throw new DomainError("unauthenticated", BAD_TOKEN);
  await revokeSession(services, claims.sessionId);
  return { ok: true };
}

async function revokeSession(services: Services, sessionId: string): Promise<void> {
  const { db, bus, clock, config } = services;
  const now = clock.now();
  await db.prisma.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now } });
  const expiresAt = now.getTime() + config.accessTtlSeconds * 1000;
  services.revokedSessions.add(sessionId, expiresAt);
  await bus.publish({ type: "session-revoked", sessionId, expiresAt }).catch(() => undefined);
}

export async function getUser(services: Services, userId: string): Promise<UserDto> {
  const user = await services.db.prisma.user.findUnique({ where: { id: userId }, select: publicUserSelect });
  if (!user) throw new DomainError("unauthenticated", BAD_TOKEN);
  return user;
}
