// The @ autocomplete's pure part: what is being typed as a mention at the caret, who matches it,
// and the text once one is chosen. The pattern is the server's (an @ that does not continue a word or
// an address), so what the list offers is what the server will read as a mention.
import type { Member } from "@parley/client";

export interface MentionQuery {
  /** Where the @ is. */
  start: number;
  /** What follows it, up to the caret. */
  query: string;
}

const TYPING_MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]*)$/u;

/** The mention being typed just before the caret, or null. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const match = TYPING_MENTION.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: match.index, query: match[1] ?? "" };
}

/** Members (not the reader) whose username, or a word of whose full name, starts with the query. */
export function matchMembers(members: readonly Member[], query: string, myId: string, limit = 8): Member[] {
  const q = query.toLowerCase();
  return members
    .filter((m) => m.id !== myId)
    .filter((m) => m.username.toLowerCase().startsWith(q) || m.fullName.toLowerCase().split(/\s+/).some((word) => word.startsWith(q)))
    .sort((a, b) => Number(!a.username.toLowerCase().startsWith(q)) - Number(!b.username.toLowerCase().startsWith(q)) || a.username.localeCompare(b.username))
    .slice(0, limit);
}

/** The text with the mention being typed replaced by `@username `, and where the caret goes. */
export function insertMention(text: string, at: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^[A-Za-z0-9_.-]*/, "").replace(/^ /, "");
  return { text: text.slice(0, at.start) + inserted + after, caret: at.start + inserted.length };
}
