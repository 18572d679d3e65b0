// The event log (model Event): every stored change in one order for the whole deployment. Messages,
// read pointers and reactions are appended by the message store (message-store.ts, the hot paths);
// every other change goes through inEventOrder() below, in a Prisma transaction under the same lock. This module also reads
// the log: for an instance catching up (after), for a client resuming (forUser), and for retention.
import type { Prisma } from "../generated/sqlite/client.js";
import type { PrismaClient } from "../generated/sqlite/client.js";
import { EVENT_ORDER_LOCK } from "./message-store.js";
import type { Provider } from "./provider.js";

/** "log.restored" is the mark a restore leaves (markRestored): it belongs to no conversation and is delivered to no one. */
export type EventKind = "message.created" | "message.updated" | "conversation.updated" | "read.updated" | "log.restored";

/** A stored event as the log holds it: what changed is read from the rows it names. */
export interface LoggedEvent {
  id: bigint;
  kind: EventKind;
  conversationId: string;
  messageId: bigint | null;
  userId: string | null;
  /** JSON, whose shape depends on the kind (packages/api/src/live/feed.ts). */
  data: string | null;
  createdAt: Date;
}

export type NewEvent = Pick<LoggedEvent, "kind" | "conversationId"> & Partial<Pick<LoggedEvent, "messageId" | "userId" | "data">>;

/** A transaction that may append events; it holds the lock that orders them. */
export interface OrderedTransaction {
  tx: Prisma.TransactionClient;
  /** Appends an event after every event committed so far (and those appended before in this transaction). */
  append(event: NewEvent): Promise<LoggedEvent>;
  /** The id the next appended event gets: a message written in this transaction takes it as its own id. */
  nextId(): bigint;
}

/** A span of a user's membership in a conversation: the events they may receive, by id, inclusive. */
export interface MembershipSpan {
  userId: string;
  conversationId: string;
  fromEventId: bigint;
  /** null while they are a member. */
  toEventId: bigint | null;
}

/** The positions the log can no longer resume from (model EventLogFloor). */
export interface LogFloor {
  /** The newest event id removed by retention (0: none). Resuming from below it would skip events. */
  prunedThroughId: bigint;
  /** The "log.restored" event of the last restore (0: none). Positions below it predate the restore. */
  restoredAtId: bigint;
}

/**
 * How far a restore moves the log on: at least this many ids past the newest event of the backup,
 * to a multiple of it. The deployment the backup was taken from may have gone on handing out ids
 * after it; to reach the restored log's ids it would have to store 10^12 events more (at the
 * measured ceiling of a few thousand a second, thousands of years), so an id a client holds from
 * that deployment is never reused for a different event. 2^63 leaves room for millions of restores.
 */
export const RESTORE_ID_STEP = 1_000_000_000_000n;

/** Where a restored log continues: the first multiple of RESTORE_ID_STEP at least RESTORE_ID_STEP past `latestId`. */
export function restoredLogStart(latestId: bigint): bigint {
  return ((latestId + 2n * RESTORE_ID_STEP - 1n) / RESTORE_ID_STEP) * RESTORE_ID_STEP;
}

export interface EventLog {
  /**
   * Runs `work` in one transaction, after every event committed before it and before every event
   * committed after it: on PostgreSQL under the advisory lock the message store takes too (commit
   * order = id order across instances), on SQLite on the one connection of the one writer process.
   * Returns what `work` returned, the events it appended and the id of the event before them.
   */
  inEventOrder<T>(work: (t: OrderedTransaction) => Promise<T>): Promise<{ result: T; events: LoggedEvent[]; prevId: bigint }>;
  /** Events with an id above `afterId`, oldest first, at most `limit`. */
  after(afterId: bigint, limit: number): Promise<LoggedEvent[]>;
  /**
   * The events a user may receive after `afterId`, oldest first, at most `limit`: those of each
   * conversation between the event that made them a member and the one that ended it (inclusive).
   */
  forUser(userId: string, afterId: bigint, limit: number): Promise<LoggedEvent[]>;
  /** Every membership span of these conversations that covers an event above `afterId`. */
  spans(conversationIds: readonly string[], afterId: bigint): Promise<MembershipSpan[]>;
  /** Where resuming stops being possible: below what retention removed, and before the last restore. */
  floor(): Promise<LogFloor>;
  /**
   * After a restore, before any instance starts on the database: appends a "log.restored" event at
   * restoredLogStart(newest id) and records it as the floor's `restoredAtId`, so the next event
   * follows it (ids the backup's deployment may have handed out after the backup are never reused)
   * and every position from before the restore is refused. Returns the newest id before and the mark.
   */
  markRestored(): Promise<{ backupLatestId: bigint; restoredAtId: bigint }>;
  /** Removes the events stored before `before` (retention; the newest event always stays) and returns the new floor. */
  prune(before: Date): Promise<bigint>;
}

const eventSelect = { id: true, kind: true, conversationId: true, messageId: true, userId: true, data: true, createdAt: true } as const;

type RawEvent = Omit<LoggedEvent, "id" | "messageId" | "createdAt" | "kind"> & {
  id: bigint | number | string;
  kind: string;
  messageId: bigint | number | string | null;
  createdAt: Date | string;
};

function fromRow(row: RawEvent): LoggedEvent {
  return {
    ...row,
    id: BigInt(row.id),
    kind: row.kind as EventKind,
    messageId: row.messageId === null ? null : BigInt(row.messageId),
    createdAt: new Date(row.createdAt),
  };
}

export function eventLog(prisma: PrismaClient, provider: Provider): EventLog {
  const param = (n: number) => (provider === "postgresql" ? `$${n}` : "?");
  const log: EventLog = {
    async inEventOrder(work) {
      return prisma.$transaction(
        async (tx) => {
          if (provider === "postgresql") await tx.$queryRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${EVENT_ORDER_LOCK})`);
          const newest = await tx.event.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
          const prevId = newest?.id ?? 0n;
          let next = prevId + 1n;
          const events: LoggedEvent[] = [];
          const result = await work({
            tx,
            nextId: () => next,
            async append(event) {
              const row = await tx.event.create({
                data: { id: next, kind: event.kind, conversationId: event.conversationId, messageId: event.messageId ?? null, userId: event.userId ?? null, data: event.data ?? null },
                select: eventSelect,
              });
              next += 1n;
              const logged = fromRow(row);
              events.push(logged);
              return logged;
            },
          });
          return { result, events, prevId };
        },
        // A membership change of a large group writes many rows; the default 5 s is for small work.
        { timeout: 30_000, maxWait: 30_000 },
      );
    },

    async after(afterId, limit) {
      const rows = await prisma.event.findMany({ where: { id: { gt: afterId } }, orderBy: { id: "asc" }, take: limit, select: eventSelect });
      return rows.map(fromRow);
    },

    async forUser(userId, afterId, limit) {
      // The user's spans: current memberships (open-ended) and ended ones that reach past afterId.
      // Each span is one range seek on Event(conversationId, id).
      const after = afterId.toString();
      const sql =
        `SELECT e."id", e."kind", e."conversationId", e."messageId", e."userId", e."data", e."createdAt" FROM "Event" e JOIN (` +
        `SELECT cm."conversationId" AS "conversationId", cm."joinedEventId" AS "fromId", NULL AS "toId" FROM "ConversationMember" cm WHERE cm."userId" = ${param(1)} ` +
        `UNION ALL SELECT pm."conversationId", pm."fromEventId", pm."toEventId" FROM "PastMembership" pm WHERE pm."userId" = ${param(2)} AND pm."toEventId" > ${param(3)}` +
        `) s ON e."conversationId" = s."conversationId" AND e."id" >= s."fromId" AND (s."toId" IS NULL OR e."id" <= s."toId") ` +
        `WHERE e."id" > ${param(4)} ORDER BY e."id" LIMIT ${param(5)}`;
      const rows = await prisma.$queryRawUnsafe<RawEvent[]>(sql, userId, userId, BigInt(after), BigInt(after), limit);
      return rows.map(fromRow);
    },

    async spans(conversationIds, afterId) {
      if (conversationIds.length === 0) return [];
      const [current, past] = await Promise.all([
        prisma.conversationMember.findMany({ where: { conversationId: { in: [...conversationIds] } }, select: { userId: true, conversationId: true, joinedEventId: true } }),
        prisma.pastMembership.findMany({ where: { conversationId: { in: [...conversationIds] }, toEventId: { gt: afterId } } }),
      ]);
      return [
        ...current.map((m) => ({ userId: m.userId, conversationId: m.conversationId, fromEventId: m.joinedEventId, toEventId: null })),
        ...past.map((m) => ({ userId: m.userId, conversationId: m.conversationId, fromEventId: m.fromEventId, toEventId: m.toEventId })),
      ];
    },

    async floor() {
      const row = await prisma.eventLogFloor.findUnique({ where: { id: 1 }, select: { prunedThroughId: true, restoredAtId: true } });
      return { prunedThroughId: row?.prunedThroughId ?? 0n, restoredAtId: row?.restoredAtId ?? 0n };
    },

    async markRestored() {
      const { result } = await log.inEventOrder(async ({ tx }) => {
        const newest = await tx.event.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
        const backupLatestId = newest?.id ?? 0n;
        const restoredAtId = restoredLogStart(backupLatestId);
        await tx.event.create({
          data: { id: restoredAtId, kind: "log.restored", conversationId: "", data: JSON.stringify({ backupLatestId: backupLatestId.toString() }) },
          select: { id: true },
        });
        await tx.eventLogFloor.upsert({ where: { id: 1 }, create: { id: 1, restoredAtId }, update: { restoredAtId } });
        return { backupLatestId, restoredAtId };
      });
      return result;
    },

    async prune(before) {
      return prisma.$transaction(async (tx) => {
        const [old, latest] = await Promise.all([
          tx.event.findFirst({ where: { createdAt: { lt: before } }, orderBy: { id: "desc" }, select: { id: true } }),
          tx.event.findFirst({ orderBy: { id: "desc" }, select: { id: true } }),
        ]);
        const current = (await tx.eventLogFloor.findUnique({ where: { id: 1 } }))?.prunedThroughId ?? 0n;
        if (!old || !latest) return current;
        // The newest event always stays: the next id is drawn from it, so ids never start over.
        const cut = old.id < latest.id ? old.id : latest.id - 1n;
        if (cut <= current) return current;
        // By id, not by time: the floor must describe exactly what is gone.
        await tx.event.deleteMany({ where: { id: { lte: cut } } });
        await tx.pastMembership.deleteMany({ where: { toEventId: { lte: cut } } });
        await tx.eventLogFloor.upsert({ where: { id: 1 }, create: { id: 1, prunedThroughId: cut }, update: { prunedThroughId: cut } });
        return cut;
      });
    },
  };
  return log;
}
