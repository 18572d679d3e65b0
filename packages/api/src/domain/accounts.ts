import { isUniqueViolation } from "@parley/db";
import { inviteRefusal, inviteStateOf, useInvite } from "../admin/invites.js";
import { claimFirstAdmin, readSettings } from "../admin/settings.js";
import type { Services } from "../context.js";
import { ACCOUNT_DEACTIVATED, BAD_CREDENTIALS, BAD_TOKEN, DomainError } from "../errors.js";
import { usernameSchema, type RoleDto, type SignupInfoDto, type SignupMode, type TokensDto, type UserDto } from "../schemas.js";
import { publicUserSelect, toUserDto } from "./selects.js";

/**
 * Creates an account, if the signup mode allows it: "open", "invite" with a valid invite (used in
 * the same transaction), never "closed". The first admin may always sign up: the account
 * ADMIN_USERNAME names, or, without it, the deployment's first account, which becomes its admin.
 * Every attempt the mode allows costs the same argon2 work and counts against the caller's address,
 * whether the name is free or taken, so probing which names exist is as slow as signing up.
 */
export async function signUp(
  services: Services,
  input: { username: string; password: string; fullName: string; inviteToken?: string | undefined },
  clientAddress: string,
): Promise<UserDto> {
  const { db, passwords, clock, audit } = services;
  await takeSignupTurn(services, clientAddress);
  const settings = await readSettings(db.prisma);
  const { adminUsername } = services.config.admin;
  // The named admin needs no invite; without one named, neither does the first account.
  const firstAdmin = adminUsername ? input.username === adminUsername : !settings.adminChosen;
  const inviteToken = firstAdmin ? undefined : input.inviteToken;
  if (!firstAdmin) await checkSignupAllowed(services, settings.signupMode, inviteToken);
  const passwordHash = await passwords.hash(input.password, "signup");
  await refuseImpersonation(services, input);
  try {
    const row = await db.prisma.$transaction(async (tx) => {
      const now = clock.now();
      const inviteId = inviteToken ? await useInvite(tx, inviteToken, now) : null;
      let isAdmin = false;
      if (firstAdmin) {
        const claimed = await claimFirstAdmin(tx);
        isAdmin = adminUsername !== null || claimed;
        // Another first account won the race: this one is an ordinary signup, if the mode allows it.
        if (!isAdmin) {
          const { signupMode } = await readSettings(tx);
          if (signupMode !== "open") throw signupRefusal(signupMode);
        }
      }
      const user = await tx.user.create({ data: { username: input.username, fullName: input.fullName, passwordHash, isAdmin }, select: publicUserSelect });
      await audit.record({ kind: inviteId ? "invite.used" : "user.signed_up", actorId: user.id, address: clientAddress, data: inviteId ? { inviteId } : {} }, tx);
      if (isAdmin) await audit.record({ kind: "user.promoted", targetId: user.id, data: { by: adminUsername ? "ADMIN_USERNAME" : "first account" } }, tx);
      return user;
    });
    return toUserDto(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError("conflict", "That username is taken");
    throw error;
  }
}

function signupRefusal(mode: SignupMode): DomainError {
  const message = mode === "closed" ? "Signups are closed on this server" : "Signing up needs an invite link: ask an admin of this server for one";
  return new DomainError("forbidden", message, undefined, "signup_not_allowed");
}

/** Before any argon2 work: the mode, and a given invite's state (it is used, atomically, when the account is made). */
async function checkSignupAllowed(services: Services, mode: SignupMode, inviteToken: string | undefined): Promise<void> {
  if (mode === "closed" || (mode === "invite" && !inviteToken)) throw signupRefusal(mode);
  if (!inviteToken) return;
  const state = await inviteStateOf(services.db.prisma, inviteToken, services.clock.now());
  if (state !== "valid") throw inviteRefusal(state);
}

/** What a signup screen shows: the mode, whether this is the first account, and what a given invite is worth. */
export async function signupInfo(services: Services, inviteToken: string | undefined): Promise<SignupInfoDto> {
  const { db, clock, config } = services;
  const settings = await readSettings(db.prisma);
  return {
    mode: settings.signupMode,
    firstAccount: !settings.adminChosen && config.admin.adminUsername === null,
    invite: inviteToken ? await inviteStateOf(db.prisma, inviteToken, clock.now()) : null,
  };
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
  const user = await db.prisma.user.findUnique({ where: { username: input.username }, select: { id: true, passwordHash: true, deactivatedAt: true } });
  const valid = user ? await passwords.verify(user.passwordHash, input.password) : await passwords.verifyDummy(input.password);
  if (!user || !valid) {
    await Promise.all([
      loginFailuresByAccountAndAddress.record(pair),
      loginFailuresByAccount.record(account),
      loginFailuresByAddress.record(clientAddress),
      services.audit.count({ kind: "login.failed", targetId: user?.id ?? null, username: input.username, address: clientAddress }),
    ]);
    throw new DomainError("unauthenticated", BAD_CREDENTIALS);
  }
  // Said only to someone who knows the password: it tells a stranger nothing.
  if (user.deactivatedAt) {
    await services.audit.count({ kind: "login.deactivated", targetId: user.id, address: clientAddress });
    throw new DomainError("unauthenticated", ACCOUNT_DEACTIVATED, undefined, "account_deactivated");
  }
  // The account-wide count stays: the owner logging in must not hand a guesser a fresh budget.
  await Promise.all([loginFailuresByAccountAndAddress.clear(pair), known > 0 ? undefined : knownLoginAddresses.record(pair)]);
  if (passwords.needsRehash(user.passwordHash)) {
    // The cost was raised since this hash was made: upgrade it now that we know the password.
    await db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: await passwords.hash(input.password, "login") } });
  }
  const session = await db.prisma.session.create({ data: { userId: user.id }, select: { id: true } });
  await services.audit.count({ kind: "login.succeeded", actorId: user.id, address: clientAddress });
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
  const session = await db.prisma.session.findUnique({ where: { id: claims.sessionId }, select: { revokedAt: true, user: { select: { deactivatedAt: true } } } });
  if (session?.user.deactivatedAt) throw new DomainError("unauthenticated", ACCOUNT_DEACTIVATED, undefined, "account_deactivated");
  if (!session || session.revokedAt) throw new DomainError("unauthenticated", BAD_TOKEN);
  const marked = await db.prisma.refreshToken.updateMany({
    where: { id: claims.tokenId, sessionId: claims.sessionId, usedAt: null },
    data: { usedAt: clock.now() },
  });
  if (marked.count !== 1) {
    await revokeSession(services, claims.sessionId);
    await services.audit.count({ kind: "refresh.reused", targetId: claims.userId, data: { sessionId: claims.sessionId } });
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
  return toUserDto(user);
}

export async function getRole(services: Services, userId: string): Promise<RoleDto> {
  const user = await services.db.prisma.user.findUnique({ where: { id: userId }, select: { isAdmin: true } });
  if (!user) throw new DomainError("unauthenticated", BAD_TOKEN);
  return { isAdmin: user.isAdmin };
}
