// Named selects: every query that returns rows to a caller says which fields it reads, so a
// password hash can never reach a response by accident. The row types are derived from them
// (Prisma's payload types); a message's columns are listed once, in packages/db.
import type { Prisma, StoredMessage } from "@parley/db";
import type { AttachmentDto, MessageDto, ReactionDto, UserDto } from "../schemas.js";

export const publicUserSelect = { id: true, username: true, fullName: true, deactivatedAt: true } as const;
/** A raw SQL read of these columns may give `deactivatedAt` as another type than Date: only whether it is null counts. */
export type PublicUserRow = Omit<Prisma.UserGetPayload<{ select: typeof publicUserSelect }>, "deactivatedAt"> & { deactivatedAt: unknown };

/** The wire shape of a user: `deactivated` only when they are. */
export function toUserDto(row: PublicUserRow): UserDto {
  const user: UserDto = { id: row.id, username: row.username, fullName: row.fullName };
  if (row.deactivatedAt !== null && row.deactivatedAt !== undefined) user.deactivated = true;
  return user;
}

export const conversationSelect = { id: true, title: true, isDirect: true, createdAt: true } as const;
export type ConversationRow = Prisma.ConversationGetPayload<{ select: typeof conversationSelect }>;

/** The selected columns as a raw SQL list, for the few queries written in SQL: `"id", "username"`, or `u."id" AS "id"` with a table alias. */
export function columnsOf(select: Record<string, true>, alias?: string): string {
  return Object.keys(select)
    .map((name) => (alias ? `${alias}."${name}" AS "${name}"` : `"${name}"`))
    .join(", ");
}

/** A stored message (from `db.messages` or Prisma with `messageSelect`) as the wire shape. */
export function toMessageDto(row: StoredMessage): MessageDto {
  return {
    id: row.id.toString(),
    conversationId: row.conversationId,
    senderId: row.senderId,
    content: row.content,
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt.toISOString(),
    mentions: JSON.parse(row.mentions) as string[],
    editedAt: row.editedAt?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
    threadId: row.threadId?.toString() ?? null,
    replyCount: row.replyCount,
    lastReplyAt: row.lastReplyAt?.toISOString() ?? null,
    reactions: JSON.parse(row.reactions) as ReactionDto[],
    attachments: JSON.parse(row.attachments) as AttachmentDto[],
  };
}
