// The deployment's settings row (signup mode, whether the first admin was chosen) and what the
// server does with them at start-up: apply SIGNUP_MODE when it is set, and make sure there is an
// admin - the account ADMIN_USERNAME names, else the oldest account of a deployment that has none.
import type { Prisma, PrismaClient } from "@parley/db";
import type { Clock } from "../clock.js";
import { SIGNUP_MODES, type SignupMode } from "../schemas.js";
import type { AuditLog } from "./audit.js";

type Tx = Prisma.TransactionClient;

const SETTINGS_ID = 1;

export interface AdminConfig {
  /** ADMIN_USERNAME: this account is made an admin (and active) at every start, and when it signs up. */
  adminUsername: string | null;
  /** SIGNUP_MODE: applied at every start when set; null keeps what admins chose ("open" on a fresh deployment). */
  signupMode: SignupMode | null;
  /** AUDIT_RETENTION_DAYS. */
  auditRetentionDays: number;
  /** New counted audit rows per kind and hour on one instance (audit.ts). */
  auditCountedRowsPerHour: number;
}

export const defaultAdminConfig: AdminConfig = { adminUsername: null, signupMode: null, auditRetentionDays: 90, auditCountedRowsPerHour: 500 };

export interface DeploymentSettings {
  signupMode: SignupMode;
  adminChosen: boolean;
}

export function asSignupMode(value: string): SignupMode {
  return (SIGNUP_MODES as readonly string[]).includes(value) ? (value as SignupMode) : "closed";
}

export async function readSettings(prisma: PrismaClient | Tx): Promise<DeploymentSettings> {
  const row = await prisma.deploymentSettings.findUnique({ where: { id: SETTINGS_ID }, select: { signupMode: true, adminChosen: true } });
  return row ? { signupMode: asSignupMode(row.signupMode), adminChosen: row.adminChosen } : { signupMode: "open", adminChosen: false };
}

/**
 * Takes the settings row's lock (PostgreSQL: until the transaction ends; SQLite has one writer
 * anyway): changes of who is an active admin run one after the other, so each one's count of the
 * remaining admins is true when it commits.
 */
export async function lockAdminChanges(tx: Tx): Promise<void> {
  await tx.deploymentSettings.update({ where: { id: SETTINGS_ID }, data: { adminVersion: { increment: 1 } } });
}

/** Makes the first admin, once per deployment: true for exactly one caller (a conditional update). */
export async function claimFirstAdmin(tx: Tx): Promise<boolean> {
  const { count } = await tx.deploymentSettings.updateMany({ where: { id: SETTINGS_ID, adminChosen: false }, data: { adminChosen: true } });
  return count === 1;
}

export async function markAdminChosen(tx: Tx): Promise<void> {
  await tx.deploymentSettings.update({ where: { id: SETTINGS_ID }, data: { adminChosen: true } });
}

/** Active admins: the deployment must always keep one. */
export function activeAdminCount(tx: Tx): Promise<number> {
  return tx.user.count({ where: { isAdmin: true, deactivatedAt: null } });
}

/** Changes the signup mode (an admin, or SIGNUP_MODE at start-up: actorId null); records a change. */
export async function setSignupMode(deps: { prisma: PrismaClient; audit: AuditLog }, actorId: string | null, mode: SignupMode): Promise<{ signupMode: SignupMode }> {
  await deps.prisma.$transaction(async (tx) => {
    const before = await readSettings(tx);
    if (before.signupMode === mode) return;
    await tx.deploymentSettings.update({ where: { id: SETTINGS_ID }, data: { signupMode: mode } });
    await deps.audit.record({ kind: "signup_mode.changed", actorId, data: { from: before.signupMode, to: mode, ...(actorId ? {} : { by: "SIGNUP_MODE" }) } }, tx);
  });
  return { signupMode: mode };
}

/**
 * At start-up, on every instance: the settings row exists, SIGNUP_MODE is applied, and the deployment
 * has an admin if it can - ADMIN_USERNAME's account (made an admin and active again: the way back
 * in when no admin can log in), or, without it, the oldest account of a deployment whose first
 * admin was never chosen (one that ran before admins existed). Safe when instances start together.
 */
export async function prepareDeployment(deps: { prisma: PrismaClient; audit: AuditLog; clock: Clock }, config: AdminConfig): Promise<void> {
  const { prisma, audit } = deps;
  await prisma.deploymentSettings.upsert({ where: { id: SETTINGS_ID }, create: { id: SETTINGS_ID }, update: {} });
  if (config.signupMode) await setSignupMode(deps, null, config.signupMode);
  if (config.adminUsername) {
    const named = config.adminUsername;
    await prisma.$transaction(async (tx) => {
      await lockAdminChanges(tx);
      const user = await tx.user.findUnique({ where: { username: named }, select: { id: true, isAdmin: true, deactivatedAt: true } });
      if (!user) return;
      await markAdminChosen(tx);
      if (user.isAdmin && !user.deactivatedAt) return;
      await tx.user.update({ where: { id: user.id }, data: { isAdmin: true, deactivatedAt: null } });
      if (!user.isAdmin) await audit.record({ kind: "user.promoted", targetId: user.id, data: { by: "ADMIN_USERNAME" } }, tx);
      if (user.deactivatedAt) await audit.record({ kind: "user.reactivated", targetId: user.id, data: { by: "ADMIN_USERNAME" } }, tx);
    });
    return;
  }
  const settings = await readSettings(prisma);
  if (settings.adminChosen) return;
  await prisma.$transaction(async (tx) => {
    const oldest = await tx.user.findFirst({ where: { deactivatedAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true } });
    if (!oldest || !(await claimFirstAdmin(tx))) return;
    await tx.user.update({ where: { id: oldest.id }, data: { isAdmin: true } });
    await audit.record({ kind: "user.promoted", targetId: oldest.id, data: { by: "first account" } }, tx);
  });
}
