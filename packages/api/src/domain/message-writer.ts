import { isUniqueViolation, type Database } from "@parley/db";
import type { EventBus } from "../live/event-bus.js";
import type { MessageDto } from "../schemas.js";
import { messageSelect, toMessageDto } from "./selects.js";

export interface NewMessage {
  conversationId: string;
  senderId: string;
  content: string;
  clientMessageId: string;
}

/**
 * Stores messages and publishes them, one at a time per instance, so that this instance publishes
 * messages in the order their ids were assigned. A live subscription relies on that: it skips
 * anything at or below the last id it delivered, which is only safe when ids arrive in order.
 */
export class MessageWriter {
  private tail: Promise<unknown> = Promise.resolve();

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
    let stored: MessageDto;
    try {
      stored = toMessageDto(await this.db.prisma.message.create({ data: message, select: messageSelect }));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // The same sender and clientMessageId raced in: the first one stored wins, and was published.
      const existing = await this.db.prisma.message.findUniqueOrThrow({
        where: { senderId_clientMessageId: { senderId: message.senderId, clientMessageId: message.clientMessageId } },
        select: messageSelect,
      });
      return toMessageDto(existing);
    }
    try {
      await this.bus.publish({ type: "message", message: stored, recipientIds });
    } catch (error) {
      // The message is stored, so the send succeeded; subscribers that missed it fill the gap
      // from the database when they resume.
      this.onPublishError(error);
    }
    return stored;
  }
}
