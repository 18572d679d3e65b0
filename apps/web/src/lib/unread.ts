// The unread and mention counts shown in the list and the tab title. They are the server's (kept
// by the chat store from sync.events); a conversation the store does not know yet shows what its
// list entry said when it was loaded.
import { formatCount, type Conversation, type Conversations } from "@parley/client";

export interface UnreadCounts {
  unread: number;
  mentions: number;
}

export const NOTHING_UNREAD: UnreadCounts = { unread: 0, mentions: 0 };

/** A badge stops counting here: "99+". */
const BADGE_MAX = 99;

export function unreadCounts(listed: Conversation, known: Conversations): UnreadCounts {
  const c = known.get(listed.id) ?? listed;
  return { unread: c.unreadCount, mentions: c.mentionCount };
}

/** What a badge shows: the count, or "99+". */
export function badgeText(n: number): string {
  return n > BADGE_MAX ? `${BADGE_MAX}+` : formatCount(n);
}

/** The badges in words, for a screen reader: "3 unread, 1 mention". */
export function describeUnread({ unread, mentions }: UnreadCounts): string {
  if (unread === 0) return "";
  const read = `${formatCount(unread)} unread`;
  return mentions === 0 ? read : `${read}, ${formatCount(mentions)} mention${mentions === 1 ? "" : "s"}`;
}

/**
 * What a conversation adds to the tab title's total, by the reader's level for it
 * (docs/contract-changes.md): every unread message, only mentions, or nothing when muted.
 */
export function titleCount(c: Conversation): number {
  if (c.notify === "none") return 0;
  return c.notify === "mentions" ? c.mentionCount : c.unreadCount;
}

/** Unread messages in every conversation (as their levels count them): the store's once it has them all, else the list's. */
export function totalUnread(listed: readonly Conversation[], known: Conversations, knowsAll: boolean): number {
  const source = knowsAll ? [...known.values()] : listed.map((c) => known.get(c.id) ?? c);
  return source.reduce((sum, c) => sum + titleCount(c), 0);
}

/** The tab's title, with the unread total in front as chat apps do: "(3) Parley". */
export function documentTitle(total: number): string {
  return total > 0 ? `(${badgeText(total)}) Parley` : "Parley";
}
