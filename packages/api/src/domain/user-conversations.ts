import type { PrismaClient } from "@parley/db";

/** The ids of the conversations a user belongs to now (from the database: membership changes at run time). */
export async function conversationIdsOf(db: PrismaClient, userId: string): Promise<string[]> {
  const rows = await db.conversationMember.findMany({ where: { userId }, select: { conversationId: true } });
  return rows.map((row) => row.conversationId);
}
