import { isUniqueViolation } from "@parley/db";
import type { Services } from "../context.js";
import { BAD_CREDENTIALS, BAD_TOKEN, DomainError } from "../errors.js";
import { usernameSchema, type TokensDto, type UserDto } from "../schemas.js";
import { publicUserSelect } from "./selects.js";

/**
 * Creates an account. Every attempt costs the same argon2 work and counts against the caller's
 * address, whether the name is free or taken, so probing which names exist is as slow as signing up.
 */
export async function signUp(
  services: Services,
  input: { username: string; password: string; fullName: string },
  clientAddress: string,
): Promise<UserDto> {
  const { db, passwords } = services;
  await takeSignupTurn(services, clientAddress);
  const passwordHash = await passwords.hash(input.password, "signup");
  await refuseImpersonation(services, input);
  try {
    return await db.prisma.user.create({
      data: { username: input.username, fullName: input.fullName, passwordHash },
      select: publicUserSelect,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("conflict", "That username is taken");
    throw error;
  }
}

async function takeSignupTurn(services: Services, clientAddress: string): Promise<void> {
  const { signupsByAddress, signupsOverall } = services;
  let wait = await signupsByAddress.take(clientAddress);
  if (wait === 0) {
    // Stryker disable next-line StringLiteral: one fixed key, whichever, counts every signup together
    wait = await signupsOverall.take("all");
    // Refused overall: this address's attempt did not happen either.
    if (wait > 0) await signupsByAddress.refund(clientAddress);
  }
  if (wait > 0) throw new DomainError("rate_limited", `Too many signups. Try again in ${wait} seconds.`, wait);
}

/** "bob", " @Bob " - a full name that reads as a username. */
function usernameLookalike(fullName: string): string {
  return fullName.trim().replace(/^@/, "").trim().toLowerCase();
}

/** A full name may not be another person's username: it would pass for them wherever names show. */
async function refuseImpersonation(services: Services, input: { username: string; fullName: string }): Promise<void> {
  const lookalike = usernameLookalike(input.fullName);
  if (lookalike === input.username || !usernameSchema.safeParse(lookalike).success) return;
  const other = await services.db.prisma.user.findUnique({ where: { username: lookalike }, select: { id: true } });
  if (other) throw new DomainError("invalid", "full name must not be another user's username");
}

/**
 * Lockout (OWASP's trade-off): failures lock out the address they came from, for that account, so a
 * stranger cannot lock the owner out from the owner's own addresses. A larger account-wide limit
 * stops guessing spread over many addresses; it does not apply where the account logged in recently.
 */
export async function logIn(
  services: Services,
  input: { username: string; password: string },
  clientAddress: string,
): Promise<TokensDto> {
  const { db, passwords, loginFailuresByAccountAndAddress, loginFailuresByAccount, loginFailuresByAddress, knownLoginAddresses } = services;
  const account = input.username;
  // Addresses never contain "|", so the pair key is unambiguous whatever the name.
  const pair = `${clientAddress}|${account}`;
  const [byPair, byAddress, byAccount, known] = await Promise.all([
    loginFailuresByAccountAndAddress.retryAfter(pair),
    loginFailuresByAddress.retryAfter(clientAddress),
    loginFailuresByAccount.retryAfter(account),
    knownLoginAddresses.retryAfter(pair),
  ]);
  const wait = Math.max(byPair, byAddress, known > 0 ? 0 : byAccount);
  if (wait > 0) {
    services.metrics.rateLimited(byPair > 0 ? "login-failures-account-address" : byAddress > 0 ? "login-failures-address" : "login-failures-account");
    throw new DomainError("rate_limited", `Too many failed logins. Try again in ${wait} seconds.`, wait);
  }
  const user = await db.prisma.user.findUnique({ where: { username: input.username }, select: { id: true, passwordHash: true } });
  const valid = user ? await passwords.verify(user.passwordHash, input.password) : await passwords.verifyDummy(input.password);
  if (!user || !valid) {
    await Promise.all([loginFailuresByAccountAndAddress.record(pair), loginFailuresByAccount.record(account), loginFailuresByAddress.record(clientAddress)]);
    throw new DomainError("unauthenticated", BAD_CREDENTIALS);
  }
  // The account-wide count stays: the owner logging in must not hand a guesser a fresh budget.
  await Promise.all([loginFailuresByAccountAndAddress.clear(pair), known > 0 ? undefined : knownLoginAddresses.record(pair)]);
  if (passwords.needsRehash(user.passwordHash)) {
    // The cost was raised since this hash was made: upgrade it now that we know the password.
    await db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: await passwords.hash(input.password, "login") } });
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
