// Named selects: every query that returns rows to a caller says which fields it reads, so a
// password hash can never reach a response by accident.
import type { MessageDto } from "../schemas.js";

export const publicUserSelect = { id: true, username: true, fullName: true } as const;

export const messageSelect = {
  id: true,
  conversationId: true,
  senderId: true,
  content: true,
  clientMessageId: true,
  createdAt: true,
} as const;

export interface MessageRow {
  id: bigint;
  conversationId: string;
  senderId: string;
  content: string;
  clientMessageId: string;
  createdAt: Date;
}

export function toMessageDto(row: MessageRow): MessageDto {
  return {
    id: row.id.toString(),
    conversationId: row.conversationId,
    senderId: row.senderId,
    content: row.content,
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt.toISOString(),
  };
}
