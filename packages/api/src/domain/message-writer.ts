import { isUniqueViolation, type Database } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect, toMessageDto, type MessageRow } from "./selects.js";

export interface NewMessage {
  conversationId: string;
  senderId: string;
  content: string;
  clientMessageId: string;
}

export interface Written {
  message: MessageDto;
  /** False when the sender's clientMessageId was already stored: a retry, answered with the stored message. */
  created: boolean;
}

interface Pending {
  message: NewMessage;
  recipientIds: string[];
  resolve(written: Written): void;
  reject(error: unknown): void;
}

/** Key of the PostgreSQL advisory lock that orders message inserts across instances. */
const MESSAGE_ORDER_LOCK = 72_707_370n;
/** Messages stored in one statement at most. */
const MAX_BATCH = 100;

const keyOf = (m: { senderId: string; clientMessageId: string }) => `${m.senderId}\u0000${m.clientMessageId}`;

/**
 * Stores messages and publishes them, each with the id of the message stored before it.
 *
 * Ids must become visible in increasing order - a reader that has seen id N must never later find
 * a new message below N - because they are the resume cursor. Writes are therefore serialized:
 * within an instance one batch at a time, and on PostgreSQL across instances by a
 * transaction-scoped advisory lock taken before the ids are drawn, so commit order equals id
 * order. SQLite is written by one process, whose own serialization suffices.
 *
 * Sends that arrive while a batch is being stored wait and are stored together in one statement
 * (group commit): under load the cost of a database round trip is shared by the whole batch.
 */
export class MessageWriter {
  private pending: Pending[] = [];
  private flushing = false;
  /** SQLite only: the newest id this process stored (null until read from the database). */
  private lastStoredId: bigint | null = null;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
  ) {}

  /** Stores the message (or finds the one already stored under its clientMessageId) and publishes a new one. */
  write(message: NewMessage, recipientIds: string[]): Promise<Written> {
    return new Promise<Written>((resolve, reject) => {
      this.pending.push({ message, recipientIds, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        await this.storeBatch(batch);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }

  private async storeBatch(batch: Pending[]): Promise<void> {
    let stored: { rows: MessageRow[]; prevId: bigint };
    try {
      const messages = batch.map((p) => p.message);
      stored = this.db.provider === "postgresql" ? await this.insertLocked(messages) : await this.insertSqlite(messages);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (batch.length > 1) {
        // A retry of a stored message is in this batch: store them one by one, so that each
        // duplicate gets the stored row and the others are stored.
        for (const p of batch) await this.storeBatch([p]).catch((e: unknown) => p.reject(e));
        return;
      }
      // Already stored under this sender's clientMessageId (a retry, or the same send racing on
      // another instance): the first one stored wins, and was published.
      const [p] = batch as [Pending];
      const existing = await this.db.prisma.message.findUniqueOrThrow({
        where: { senderId_clientMessageId: { senderId: p.message.senderId, clientMessageId: p.message.clientMessageId } },
        select: messageSelect,
      });
      p.resolve({ message: toMessageDto(existing), created: false });
      return;
    }
    const pendingByKey = new Map(batch.map((p) => [keyOf(p.message), p]));
    let prevId = stored.prevId;
    const published: Promise<void>[] = [];
    const written: [Pending, MessageDto][] = [];
    for (const row of stored.rows) {
      const pending = pendingByKey.get(keyOf(row));
      if (!pending) continue;
      pendingByKey.delete(keyOf(row));
      const message = toMessageDto(row);
      written.push([pending, message]);
      published.push(
        this.bus.publish({ type: "message", message, recipientIds: pending.recipientIds, prevId: prevId.toString() }).catch(this.onPublishError),
      );
      prevId = row.id;
    }
    // Stored means sent, even if publishing failed: receivers fill the gap from the database.
    await Promise.all(published);
    for (const [pending, message] of written) pending.resolve({ message, created: true });
    for (const pending of pendingByKey.values()) pending.reject(new Error("a stored message was not returned"));
  }

  private async insertSqlite(messages: NewMessage[]): Promise<{ rows: MessageRow[]; prevId: bigint }> {
    const { prisma } = this.db;
    if (this.lastStoredId === null) {
      const newest = await prisma.message.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
      this.lastStoredId = newest?.id ?? 0n;
    }
    const rows = sortById(await prisma.message.createManyAndReturn({ data: messages, select: messageSelect }));
    const prevId = this.lastStoredId;
    this.lastStoredId = rows.at(-1)?.id ?? prevId;
    return { rows, prevId };
  }

  private insertLocked(messages: NewMessage[]): Promise<{ rows: MessageRow[]; prevId: bigint }> {
    return this.db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MESSAGE_ORDER_LOCK})`;
      const newest = await tx.message.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
      const rows = sortById(await tx.message.createManyAndReturn({ data: messages, select: messageSelect }));
      return { rows, prevId: newest?.id ?? 0n };
    });
  }
}

function sortById(rows: MessageRow[]): MessageRow[] {
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
