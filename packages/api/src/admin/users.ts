// Users as admins manage them: list and search, promote and demote, deactivate and reactivate. Every
// change of who is an active admin runs under the settings row's lock, so the deployment never
// ends up without one. Deactivation ends the user's sessions at once on every instance: the
// sessions are revoked in the database, every instance hears of it on the bus (their access tokens
// stop working, their live subscriptions end, their WebSockets close with 4004), and login and
// refresh refuse the account until it is reactivated. Their messages stay.
import type { Prisma } from "@parley/db";
import { DEACTIVATION_MARGIN_MS } from "../auth/revoked-sessions.js";
import type { Services } from "../context.js";
import { searchUsers } from "../domain/users.js";
import { DomainError } from "../errors.js";
import { activeAdminCount, lockAdminChanges } from "./settings.js";
import type { AdminUserDto } from "./schemas.js";

const adminUserSelect = { id: true, username: true, fullName: true, isAdmin: true, createdAt: true, deactivatedAt: true } as const;
type AdminUserRow = Prisma.UserGetPayload<{ select: typeof adminUserSelect }>;

function toAdminUser(row: AdminUserRow): AdminUserDto {
  return {
    id: row.id,
    username: row.username,
    fullName: row.fullName,
    isAdmin: row.isAdmin,
    deactivated: row.deactivatedAt !== null,
    createdAt: row.createdAt.toISOString(),
    deactivatedAt: row.deactivatedAt?.toISOString() ?? null,
  };
}

/** Whether the user may use the admin procedures now: an admin, and active. */
export async function isActiveAdmin(services: Services, userId: string): Promise<boolean> {
  const row = await services.db.prisma.user.findUnique({ where: { id: userId }, select: { isAdmin: true, deactivatedAt: true } });
  return row !== null && row.isAdmin && row.deactivatedAt === null;
}

/** A page of users by username, or (with a query) those whose username or full name starts with it. */
export async function listAdminUsers(
  services: Services,
  input: { query?: string | undefined; cursor?: string | null | undefined; limit: number },
): Promise<{ items: AdminUserDto[]; nextCursor: string | null }> {
  const { prisma } = services.db;
  if (input.query) {
    const found = await searchUsers(services.db, { query: input.query, limit: input.limit });
    const rows = await prisma.user.findMany({ where: { id: { in: found.map((u) => u.id) } }, select: adminUserSelect });
    const byId = new Map(rows.map((row) => [row.id, toAdminUser(row)]));
    // In the search's order (the exact username first).
    return { items: found.flatMap((u) => byId.get(u.id) ?? []), nextCursor: null };
  }
  const rows = await prisma.user.findMany({
    where: input.cursor ? { username: { gt: input.cursor } } : {},
    orderBy: { username: "asc" },
    take: input.limit + 1,
    select: adminUserSelect,
  });
  const page = rows.slice(0, input.limit);
  return { items: page.map(toAdminUser), nextCursor: rows.length > input.limit ? (page.at(-1)?.username ?? null) : null };
}

async function findTarget(tx: Prisma.TransactionClient, userId: string): Promise<AdminUserRow> {
  const row = await tx.user.findUnique({ where: { id: userId }, select: adminUserSelect });
  if (!row) throw new DomainError("not_found", "No such user");
  return row;
}

const LAST_ADMIN = "The deployment must keep at least one active admin: promote someone else first";

/** Promotes (`admin: true`) or demotes a user; the last active admin cannot be demoted. Setting what is already set changes nothing. */
export async function setAdmin(services: Services, actorId: string, input: { userId: string; admin: boolean }): Promise<AdminUserDto> {
  const { prisma } = services.db;
  const row = await prisma.$transaction(async (tx) => {
    await lockAdminChanges(tx);
    const target = await findTarget(tx, input.userId);
    if (target.isAdmin === input.admin) return target;
    if (!input.admin && target.deactivatedAt === null && (await activeAdminCount(tx)) <= 1) throw new DomainError("invalid", LAST_ADMIN);
    const updated = await tx.user.update({ where: { id: target.id }, data: { isAdmin: input.admin }, select: adminUserSelect });
    await services.audit.record({ kind: input.admin ? "user.promoted" : "user.demoted", actorId, targetId: target.id }, tx);
    return updated;
  });
  return toAdminUser(row);
}

/**
 * Deactivates a user: not oneself, not the last active admin. Their sessions end at once on every
 * instance; deactivating a deactivated user changes nothing.
 */
export async function deactivateUser(services: Services, actorId: string, userId: string): Promise<AdminUserDto> {
  if (userId === actorId) throw new DomainError("invalid", "You cannot deactivate yourself");
  const { db, clock, config, revokedSessions, bus, log } = services;
  const now = clock.now();
  const outcome = await db.prisma.$transaction(async (tx) => {
    await lockAdminChanges(tx);
    const target = await findTarget(tx, userId);
    if (target.deactivatedAt !== null) return { row: target, sessionIds: null };
    if (target.isAdmin && (await activeAdminCount(tx)) <= 1) throw new DomainError("invalid", LAST_ADMIN);
    // The sessions whose access tokens may still be live: those that issued a token within their lifetime.
    const recent = await tx.refreshToken.findMany({
      where: { session: { userId, revokedAt: null }, createdAt: { gte: new Date(now.getTime() - config.accessTtlSeconds * 1000) } },
      select: { sessionId: true },
      distinct: ["sessionId"],
    });
    await tx.session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
    const row = await tx.user.update({ where: { id: userId }, data: { deactivatedAt: now }, select: adminUserSelect });
    await services.audit.record({ kind: "user.deactivated", actorId, targetId: userId }, tx);
    return { row, sessionIds: recent.map((r) => r.sessionId) };
  });
  if (outcome.sessionIds) {
    const expiresAt = now.getTime() + config.accessTtlSeconds * 1000 + DEACTIVATION_MARGIN_MS;
    revokedSessions.deactivate(userId, outcome.sessionIds, expiresAt);
    // Stored first: an instance that misses this (Redis down) still refuses the user's refresh and
    // login, and its access tokens end with their lifetime.
    await bus.publish({ type: "user-deactivated", userId, sessionIds: outcome.sessionIds, expiresAt }).catch((error: unknown) => log.warn({ err: error }, "deactivation not announced"));
  }
  return toAdminUser(outcome.row);
}

/** Lets a deactivated user log in again (their old sessions stay ended). */
export async function reactivateUser(services: Services, actorId: string, userId: string): Promise<AdminUserDto> {
  const { db, revokedSessions, bus, log } = services;
  const outcome = await db.prisma.$transaction(async (tx) => {
    await lockAdminChanges(tx);
    const target = await findTarget(tx, userId);
    if (target.deactivatedAt === null) return { row: target, changed: false };
    const row = await tx.user.update({ where: { id: userId }, data: { deactivatedAt: null }, select: adminUserSelect });
    await services.audit.record({ kind: "user.reactivated", actorId, targetId: userId }, tx);
    return { row, changed: true };
  });
  if (outcome.changed) {
    revokedSessions.reactivate(userId);
    await bus.publish({ type: "user-reactivated", userId }).catch((error: unknown) => log.warn({ err: error }, "reactivation not announced"));
  }
  return toAdminUser(outcome.row);
}
