import type { Database } from "@parley/db";
import type { MembershipCache } from "../domain/memberships.js";
import { messageSelect } from "@parley/db";
import { toMessageDto } from "../domain/selects.js";
import type { MessageLog } from "./live-hub.js";

/** The database as the live hub reads it: every stored message in id order, with its recipients. */
export function messageLogOf({ db, memberships }: { db: Database; memberships: MembershipCache }): MessageLog {
  return {
    latestId: () => db.messages.latestId(),
    async after(afterId, limit) {
      const rows = await db.prisma.message.findMany({
        where: { id: { gt: afterId } },
        // Stryker disable next-line ObjectLiteral: Prisma orders a `take` by the primary key when told no order (test/message-log.test.ts shows it on PostgreSQL, whose rows are stored out of order there)
        orderBy: { id: "asc" },
        take: limit,
        select: messageSelect,
      });
      const result = [];
      for (const row of rows) {
        const members = await memberships.get(row.conversationId);
        result.push({ message: toMessageDto(row), recipientIds: members ? [...members] : [] });
      }
      return result;
    },
  };
}
