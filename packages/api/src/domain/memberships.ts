import type { PrismaClient } from "@parley/db";

const MAX_CACHED_CONVERSATIONS = 50_000;

/**
 * Who belongs to which conversation, from memory, for deciding who may call a procedure about one.
 * An entry is dropped when this instance's hub passes a membership event of its conversation (so
 * it is as current as the events this instance has delivered), and a "not a member" answer is
 * checked against the database once more before a caller is refused (another instance may have
 * added them a moment ago). Writes check membership again in their own transaction. The cache is
 * bounded and refills from the database.
 */
export class MembershipCache {
  private readonly members = new Map<string, ReadonlySet<string>>();

  constructor(private readonly db: PrismaClient) {}

  /** The member ids of a conversation, or null when it does not exist. */
  async get(conversationId: string): Promise<ReadonlySet<string> | null> {
    const cached = this.members.get(conversationId);
    if (cached) return cached;
    const rows = await this.db.conversationMember.findMany({ where: { conversationId }, select: { userId: true } });
    // A conversation with no members is gone (the last one left), so none means no such conversation.
    if (rows.length === 0) return null;
    const members = new Set(rows.map((row) => row.userId));
    this.remember(conversationId, members);
    return members;
  }

  /** Reads the conversation's members from the database again. */
  async refresh(conversationId: string): Promise<ReadonlySet<string> | null> {
    this.members.delete(conversationId);
    return this.get(conversationId);
  }

  /** Forgets a conversation whose members changed. */
  forget(conversationId: string): void {
    this.members.delete(conversationId);
  }

  remember(conversationId: string, memberIds: Iterable<string>): void {
    if (this.members.size >= MAX_CACHED_CONVERSATIONS) {
      const oldest = this.members.keys().next();
      if (!oldest.done) this.members.delete(oldest.value);
    }
    this.members.set(conversationId, new Set(memberIds));
  }
}
