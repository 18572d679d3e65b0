import { isUniqueViolation } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { ConversationDto } from "../schemas.js";
import { publicUserSelect } from "./selects.js";

const conversationSelect = {
  id: true,
  title: true,
  isDirect: true,
  createdAt: true,
  members: { select: { user: { select: publicUserSelect } }, orderBy: { joinedAt: "asc" } },
} as const;

type ConversationRow = {
  id: string;
  title: string | null;
  isDirect: boolean;
  createdAt: Date;
  members: { user: { id: string; username: string; fullName: string } }[];
};

function toConversationDto(row: ConversationRow): ConversationDto {
  return {
    id: row.id,
    title: row.title,
    isDirect: row.isDirect,
    members: row.members.map((m) => m.user),
    createdAt: row.createdAt.toISOString(),
  };
}

/** The key that makes a direct conversation between two people unique, whoever creates it. */
export function directKeyOf(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export async function createConversation(
  services: Services,
  callerId: string,
  input: { title?: string | undefined; memberIds: string[] },
): Promise<ConversationDto> {
  const { db, memberships } = services;
  const others = [...new Set(input.memberIds)].filter((id) => id !== callerId);
  if (others.length === 0) throw new DomainError("invalid", "memberIds must name at least one other user");
  const found = await db.prisma.user.count({ where: { id: { in: others } } });
  if (found !== others.length) throw new DomainError("invalid", "memberIds names a user that does not exist");

  const memberIds = [callerId, ...others];
  const otherId = others[0];
  const isDirect = others.length === 1 && input.title === undefined && otherId !== undefined;
  const directKey = isDirect ? directKeyOf(callerId, otherId) : null;

  if (directKey) {
    const existing = await db.prisma.conversation.findUnique({ where: { directKey }, select: conversationSelect });
    if (existing) return toConversationDto(existing);
  }
  let created: ConversationRow;
  try {
    created = await db.prisma.conversation.create({
      data: {
        title: input.title ?? null,
        isDirect,
        directKey,
        members: { create: memberIds.map((userId) => ({ userId })) },
      },
      select: conversationSelect,
    });
  } catch (error) {
    // Both people created it at the same moment: the unique direct key let one through.
    if (directKey && isUniqueViolation(error)) {
      return toConversationDto(await db.prisma.conversation.findUniqueOrThrow({ where: { directKey }, select: conversationSelect }));
    }
    throw error;
  }
  memberships.remember(created.id, memberIds);
  return toConversationDto(created);
}

/** The caller's conversations, most recent activity (last message, else creation) first. */
export async function listConversations(services: Services, userId: string): Promise<ConversationDto[]> {
  const rows = await services.db.prisma.conversation.findMany({
    where: { members: { some: { userId } } },
    select: { ...conversationSelect, messages: { select: { createdAt: true }, orderBy: { id: "desc" }, take: 1 } },
  });
  const activity = (row: (typeof rows)[number]) => (row.messages[0]?.createdAt ?? row.createdAt).getTime();
  return rows.sort((a, b) => activity(b) - activity(a)).map(toConversationDto);
}
