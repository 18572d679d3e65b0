// The audit log: admin actions and security events, for admins to read (admin.auditLog) and kept for
// a configurable number of days. Admin actions are written in the transaction of the change they
// record. Kinds an outsider can repeat at will (logins, refresh-token reuse) are counted instead:
// one row per kind, hour and detail, and past a number of new rows an hour one overflow row, so a
// flood of failed logins from many addresses with made-up names costs a bounded number of rows.
import type { Prisma, PrismaClient } from "@parley/db";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { startPeriodic, type Periodic } from "../periodic.js";
import type { AuditEntryDto, AuditKind } from "./schemas.js";

type Tx = Prisma.TransactionClient;
export type AuditData = Record<string, string | number | boolean | null>;

export interface AuditRecord {
  kind: AuditKind;
  actorId?: string | null;
  targetId?: string | null;
  username?: string | null;
  address?: string | null;
  data?: AuditData;
}

export interface AuditConfig {
  /** Entries whose last occurrence is older are removed (AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  /** New counted rows per kind and hour on one instance; past it, the hour's overflow row counts the rest. */
  countedRowsPerHour: number;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const FIRST_PRUNE_AFTER_MS = 90 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const userRefSelect = { id: true, username: true } as const;

export class AuditLog {
  /** New counted rows this hour, by `kind|hour`: only the current hour's keys are kept. */
  private readonly rowsThisHour = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
    private readonly config: AuditConfig,
    private readonly log: Logger,
  ) {}

  /** One entry; inside `tx` when given, so that it commits, or not, with the change it records. */
  async record(entry: AuditRecord, tx?: Tx): Promise<void> {
    const now = this.clock.now();
    await (tx ?? this.prisma).auditEvent.create({ data: { ...rowOf(entry), createdAt: now, lastAt: now } });
  }

  /**
   * Counts one occurrence of an event an outsider can repeat. Never throws: a login must not fail
   * because its audit row could not be written (the failure is logged).
   */
  async count(entry: AuditRecord): Promise<void> {
    try {
      const now = this.clock.now();
      const hour = now.toISOString().slice(0, 13);
      const hourKey = `${entry.kind}|${hour}`;
      const details = [entry.actorId, entry.targetId, entry.username, entry.address, entry.data ? JSON.stringify(entry.data) : null];
      let key = `${hourKey}|${JSON.stringify(details)}`;
      let row = rowOf(entry);
      const exists = await this.prisma.auditEvent.updateMany({ where: { aggregateKey: key }, data: { count: { increment: 1 }, lastAt: now } });
      if (exists.count > 0) return;
      this.forgetOtherHours(hour);
      const made = this.rowsThisHour.get(hourKey) ?? 0;
      if (made >= this.config.countedRowsPerHour) {
        key = `${hourKey}|overflow`;
        row = { kind: entry.kind, actorId: null, targetId: null, username: null, address: null, data: JSON.stringify({ overflow: true }) };
      } else {
        this.rowsThisHour.set(hourKey, made + 1);
      }
      // Two instances may create the same key at once: the unique index keeps one row, the upsert counts on it.
      await this.prisma.auditEvent.upsert({
        where: { aggregateKey: key },
        create: { ...row, aggregateKey: key, createdAt: now, lastAt: now },
        update: { count: { increment: 1 }, lastAt: now },
      });
    } catch (error) {
      this.log.warn({ err: error, kind: entry.kind }, "audit entry not written");
    }
  }

  private forgetOtherHours(hour: string): void {
    for (const key of this.rowsThisHour.keys()) if (!key.endsWith(`|${hour}`)) this.rowsThisHour.delete(key);
  }

  /** Newest first, `limit` at a time, after `cursor` (an entry id), of one kind and/or about one user. */
  async list(input: { kind?: AuditKind | undefined; userId?: string | undefined; cursor?: string | null | undefined; limit: number }): Promise<{ items: AuditEntryDto[]; nextCursor: string | null }> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        ...(input.kind ? { kind: input.kind } : {}),
        ...(input.userId ? { OR: [{ actorId: input.userId }, { targetId: input.userId }] } : {}),
        ...(input.cursor ? { id: { lt: Number(input.cursor) } } : {}),
      },
      orderBy: { id: "desc" },
      take: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    const userIds = [...new Set(page.flatMap((row) => [row.actorId, row.targetId]).filter((id): id is string => id !== null))];
    const users = await this.prisma.user.findMany({ where: { id: { in: userIds } }, select: userRefSelect });
    const byId = new Map(users.map((user) => [user.id, user]));
    const refOf = (id: string | null) => (id === null ? null : (byId.get(id) ?? { id, username: "" }));
    return {
      items: page.map((row) => ({
        id: String(row.id),
        kind: row.kind as AuditKind,
        at: row.createdAt.toISOString(),
        count: row.count,
        lastAt: row.lastAt.toISOString(),
        actor: refOf(row.actorId),
        target: refOf(row.targetId),
        username: row.username,
        address: row.address,
        data: row.data === null ? {} : (JSON.parse(row.data) as AuditData),
      })),
      nextCursor: rows.length > input.limit ? String(page.at(-1)?.id) : null,
    };
  }

  /** Removes entries whose last occurrence is older than the retention; answers how many. */
  async prune(): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.config.retentionDays * DAY_MS);
    const { count } = await this.prisma.auditEvent.deleteMany({ where: { lastAt: { lt: before } } });
    return count;
  }

  /** Prunes once shortly after start, then every hour. */
  startRetention(): Periodic {
    return startPeriodic(
      () => {
        this.prune().catch((error: unknown) => this.log.warn({ err: error }, "audit log retention failed"));
      },
      { firstAfterMs: FIRST_PRUNE_AFTER_MS, everyMs: PRUNE_EVERY_MS },
    );
  }
}

function rowOf(entry: AuditRecord) {
  return {
    kind: entry.kind,
    actorId: entry.actorId ?? null,
    targetId: entry.targetId ?? null,
    username: entry.username ?? null,
    address: entry.address ?? null,
    data: entry.data ? JSON.stringify(entry.data) : null,
  };
}
