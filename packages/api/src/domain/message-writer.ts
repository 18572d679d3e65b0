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

/** Key of the PostgreSQL advisory lock that orders message inserts across instances. */
const MESSAGE_ORDER_LOCK = 72_707_370n;

/**
 * Stores messages and publishes them, each with the id of the message stored before it.
 *
 * Ids must become visible in increasing order - a reader that has seen id N must never later find
 * a new message below N - because they are the resume cursor. Writes are therefore serialized:
 * within an instance by a promise chain, and on PostgreSQL across instances by a transaction-scoped
 * advisory lock taken before the id is drawn, so commit order equals id order. SQLite is written by
 * one process, whose chain alone serializes it.
 */
export class MessageWriter {
  private tail: Promise<unknown> = Promise.resolve();
  /** SQLite only: the newest id this process stored (null until read from the database). */
  private lastStoredId: bigint | null = null;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => undefined,
  ) {}

  /** Stores the message (or finds the one already stored under its clientMessageId) and publishes a new one. */
  write(message: NewMessage, recipientIds: string[]): Promise<MessageDto> {
    const result = this.tail.then(() => this.store(message, recipientIds));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async store(message: NewMessage, recipientIds: string[]): Promise<MessageDto> {
    let inserted: { row: MessageRow; prevId: bigint };
    try {
      inserted = this.db.provider === "postgresql" ? await this.insertLocked(message) : await this.insertSqlite(message);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // The same sender and clientMessageId raced in: the first one stored wins, and was published.
      const existing = await this.db.prisma.message.findUniqueOrThrow({
        where: { senderId_clientMessageId: { senderId: message.senderId, clientMessageId: message.clientMessageId } },
        select: messageSelect,
      });
      return toMessageDto(existing);
    }
    const stored = toMessageDto(inserted.row);
    try {
      await this.bus.publish({ type: "message", message: stored, recipientIds, prevId: inserted.prevId.toString() });
    } catch (error) {
      // The message is stored, so the send succeeded; receivers fill the gap from the database.
      this.onPublishError(error);
    }
    return stored;
  }

  private async insertSqlite(message: NewMessage): Promise<{ row: MessageRow; prevId: bigint }> {
    const { prisma } = this.db;
    if (this.lastStoredId === null) {
      const newest = await prisma.message.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
      this.lastStoredId = newest?.id ?? 0n;
    }
    const row = await prisma.message.create({ data: message, select: messageSelect });
    const prevId = this.lastStoredId;
    this.lastStoredId = row.id;
    return { row, prevId };
  }

  private insertLocked(message: NewMessage): Promise<{ row: MessageRow; prevId: bigint }> {
    return this.db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${MESSAGE_ORDER_LOCK})`;
      const newest = await tx.message.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
      const row = await tx.message.create({ data: message, select: messageSelect });
      return { row, prevId: newest?.id ?? 0n };
    });
  }
}
