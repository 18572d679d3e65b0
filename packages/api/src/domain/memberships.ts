import type { PrismaClient } from "@parley/db";

const MAX_CACHED_CONVERSATIONS = 50_000;

/**
 * Who belongs to which conversation, from memory. Members are fixed when a conversation is
 * created, so an entry never goes stale; the cache is bounded and refills from the database.
 */
export class MembershipCache {
  private readonly members = new Map<string, ReadonlySet<string>>();

  constructor(private readonly db: PrismaClient) {}

  /** The member ids of a conversation, or null when it does not exist. */
  async get(conversationId: string): Promise<ReadonlySet<string> | null> {
    const cached = this.members.get(conversationId);
    if (cached) return cached;
    const rows = await this.db.conversationMember.findMany({ where: { conversationId }, select: { userId: true } });
    // Every conversation has at least two members, so none means no such conversation.
    if (rows.length === 0) return null;
    const members = new Set(rows.map((row) => row.userId));
    this.remember(conversationId, members);
    return members;
  }

  remember(conversationId: string, memberIds: Iterable<string>): void {
    if (this.members.size >= MAX_CACHED_CONVERSATIONS) {
      const oldest = this.members.keys().next();
      if (!oldest.done) this.members.delete(oldest.value);
    }
    this.members.set(conversationId, new Set(memberIds));
  }
}
