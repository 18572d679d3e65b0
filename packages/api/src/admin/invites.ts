// Invite links: an admin makes one (how many signups it allows, when it expires), copies its link
// once, and may revoke it. Only a hash of the token is stored, so the database does not hold
// working links; a signup uses one atomically (of two racing for the last use, one wins).
import { createHash, randomBytes } from "node:crypto";
import type { Prisma, PrismaClient } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { InviteState } from "../schemas.js";
import type { InviteDto } from "./schemas.js";

type Tx = Prisma.TransactionClient;

const HOUR_MS = 60 * 60 * 1000;

const inviteSelect = { id: true, createdAt: true, expiresAt: true, maxUses: true, uses: true, revokedAt: true, createdById: true } as const;
type InviteRow = Prisma.InviteGetPayload<{ select: typeof inviteSelect }>;

export function hashInviteToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function stateOfInvite(row: Pick<InviteRow, "expiresAt" | "maxUses" | "uses" | "revokedAt">, now: Date): Exclude<InviteState, "unknown"> {
  if (row.revokedAt) return "revoked";
  if (row.uses >= row.maxUses) return "used_up";
  if (row.expiresAt.getTime() <= now.getTime()) return "expired";
  return "valid";
}

const INVITE_REFUSALS: Record<Exclude<InviteState, "valid">, string> = {
  unknown: "This invite link is not valid. Ask an admin for a new one.",
  expired: "This invite link has expired. Ask an admin for a new one.",
  revoked: "This invite link was revoked. Ask an admin for a new one.",
  used_up: "This invite link has been used up. Ask an admin for a new one.",
};

export function inviteRefusal(state: Exclude<InviteState, "valid">): DomainError {
  return new DomainError("forbidden", INVITE_REFUSALS[state], undefined, "invite_invalid");
}

/** What a token is worth now (a signup screen asks before showing its form). */
export async function inviteStateOf(prisma: PrismaClient | Tx, token: string, now: Date): Promise<InviteState> {
  const row = await prisma.invite.findUnique({ where: { tokenHash: hashInviteToken(token) }, select: inviteSelect });
  return row ? stateOfInvite(row, now) : "unknown";
}

/** Uses one signup of the invite, in the signup's transaction; throws why not when it cannot be used. */
export async function useInvite(tx: Tx, token: string, now: Date): Promise<string> {
  const tokenHash = hashInviteToken(token);
  const used = await tx.invite.updateMany({
    where: { tokenHash, revokedAt: null, expiresAt: { gt: now }, uses: { lt: tx.invite.fields.maxUses } },
    data: { uses: { increment: 1 } },
  });
  const row = await tx.invite.findUnique({ where: { tokenHash }, select: inviteSelect });
  if (used.count === 1 && row) return row.id;
  const state = row ? stateOfInvite(row, now) : "unknown";
  throw inviteRefusal(state === "valid" ? "used_up" : state);
}

async function toInviteDtos(prisma: PrismaClient | Tx, rows: InviteRow[], now: Date): Promise<InviteDto[]> {
  const creators = await prisma.user.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.createdById))] } }, select: { id: true, username: true } });
  const byId = new Map(creators.map((c) => [c.id, c]));
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    maxUses: row.maxUses,
    uses: row.uses,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdBy: byId.get(row.createdById) ?? null,
    state: stateOfInvite(row, now),
  }));
}

type InviteDeps = Pick<Services, "db" | "clock" | "audit">;

export async function createInvite(deps: InviteDeps, actorId: string, input: { maxUses: number; expiresInHours: number }): Promise<{ invite: InviteDto; token: string }> {
  const now = deps.clock.now();
  // 256 bits: a link cannot be guessed, so the signup screen may say what a given one is worth.
  const token = randomBytes(32).toString("base64url");
  return deps.db.prisma.$transaction(async (tx) => {
    const row = await tx.invite.create({
      data: { tokenHash: hashInviteToken(token), createdById: actorId, createdAt: now, expiresAt: new Date(now.getTime() + input.expiresInHours * HOUR_MS), maxUses: input.maxUses },
      select: inviteSelect,
    });
    await deps.audit.record({ kind: "invite.created", actorId, data: { inviteId: row.id, maxUses: row.maxUses, expiresAt: row.expiresAt.toISOString() } }, tx);
    const [invite] = await toInviteDtos(tx, [row], now);
    if (!invite) throw new Error("the invite just made was not read back");
    return { invite, token };
  });
}

/** Newest first. */
export async function listInvites(deps: InviteDeps, input: { cursor?: string | null | undefined; limit: number }): Promise<{ items: InviteDto[]; nextCursor: string | null }> {
  const rows = await deps.db.prisma.invite.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    take: input.limit + 1,
    select: inviteSelect,
  });
  const page = rows.slice(0, input.limit);
  return { items: await toInviteDtos(deps.db.prisma, page, deps.clock.now()), nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Revoking twice changes nothing the second time. */
export async function revokeInvite(deps: InviteDeps, actorId: string, inviteId: string): Promise<InviteDto> {
  const now = deps.clock.now();
  return deps.db.prisma.$transaction(async (tx) => {
    const revoked = await tx.invite.updateMany({ where: { id: inviteId, revokedAt: null }, data: { revokedAt: now } });
    const row = await tx.invite.findUnique({ where: { id: inviteId }, select: inviteSelect });
    if (!row) throw new DomainError("not_found", "No such invite");
    if (revoked.count === 1) await deps.audit.record({ kind: "invite.revoked", actorId, data: { inviteId } }, tx);
    const [invite] = await toInviteDtos(tx, [row], now);
    if (!invite) throw new Error("the invite was not read back");
    return invite;
  });
}
