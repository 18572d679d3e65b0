// How conversations are named and ordered in the list.
import { compareIds, newer, type Conversation, type Message, type User } from "@parley/client";

export function displayName(user: Pick<User, "fullName" | "username">): string {
  return user.fullName.trim() || user.username;
}

export function otherMembers(conversation: Conversation, myId: string): User[] {
  return conversation.members.filter((m) => m.id !== myId);
}

/** Their name and, so that a look-alike name cannot pass for them, their unique username. */
export function nameWithUsername(user: Pick<User, "fullName" | "username">): string {
  const name = user.fullName.trim();
  return name ? `${name} (@${user.username})` : `@${user.username}`;
}

/**
 * The title; for a direct conversation the other person; otherwise the members' names. A listed
 * group carries only its first members, so how many others there are comes from memberCount.
 */
export function conversationTitle(conversation: Conversation, myId: string): string {
  if (conversation.title) return conversation.title;
  const others = otherMembers(conversation, myId);
  if (others.length === 0) return "Just you";
  const names = others.map(displayName);
  const otherCount = Math.max(others.length, conversation.memberCount - 1);
  if (conversation.isDirect || otherCount === 1) return names[0] as string;
  if (otherCount <= 3 && names.length === otherCount) return `${names.slice(0, -1).join(", ")} and ${names.at(-1) as string}`;
  const unnamed = otherCount - Math.min(2, names.length);
  return `${names.slice(0, 2).join(", ")} and ${unnamed} other${unnamed === 1 ? "" : "s"}`;
}

/** How many conversations one page of the list holds. */
export const CONVERSATION_PAGE_SIZE = 30;

export const CONVERSATION_LIST_INPUT = { limit: CONVERSATION_PAGE_SIZE } as const;

/** The cursor for the page after `page`: its last conversation; none after a short page. */
export function nextConversationCursor(page: readonly Conversation[]): string | undefined {
  return page.length < CONVERSATION_PAGE_SIZE ? undefined : page.at(-1)?.id;
}

/**
 * The loaded pages as one list, each conversation once. Activity moves conversations between pages
 * while they load, so the first (newest) copy wins.
 */
export function flattenConversationPages(pages: readonly (readonly Conversation[])[]): Conversation[] {
  const seen = new Set<string>();
  const list: Conversation[] = [];
  for (const page of pages) {
    for (const conversation of page) {
      if (seen.has(conversation.id)) continue;
      seen.add(conversation.id);
      list.push(conversation);
    }
  }
  return list;
}

/** The time of the last thing that happened in it: its last message, or its creation. */
export function lastActivity(conversation: Conversation, last: Message | null | undefined): string {
  if (last && last.createdAt > conversation.createdAt) return last.createdAt;
  return conversation.createdAt;
}

/**
 * Most recent activity first. The server sends the list in that order; live messages move a
 * conversation up without a refetch. Ties keep the server's order.
 */
export function sortByActivity(conversations: readonly Conversation[], lastMessage: (id: string) => Message | null | undefined): Conversation[] {
  const keyed = conversations.map((c, index) => ({ c, index, last: lastMessage(c.id), at: lastActivity(c, lastMessage(c.id)) }));
  keyed.sort((a, b) => {
    if (a.at !== b.at) return a.at < b.at ? 1 : -1;
    if (a.last && b.last) return -compareIds(a.last.id, b.last.id);
    return a.index - b.index;
  });
  return keyed.map((k) => k.c);
}

/**
 * Whether what was typed (`needle`, trimmed and in lower case) finds the conversation: anywhere in
 * its title, a member's username or full name. Only the members the client has (a listed group's
 * first few) are searched.
 */
export function matchesConversation(conversation: Conversation, needle: string, myId: string): boolean {
  return (
    conversationTitle(conversation, myId).toLowerCase().includes(needle) ||
    conversation.members.some((m) => m.username.includes(needle) || m.fullName.toLowerCase().includes(needle))
  );
}

/**
 * The quick switcher's answer for what was typed: conversations whose title starts with it first,
 * then those with a word of the title starting with it, then any other match; each group in the
 * order given (most recent activity first); at most `limit`.
 */
export function switcherMatches(conversations: readonly Conversation[], typed: string, myId: string, limit: number): Conversation[] {
  const needle = typed.trim().toLowerCase();
  if (!needle) return conversations.slice(0, limit);
  const tiers: Conversation[][] = [[], [], []];
  for (const conversation of conversations) {
    const title = conversationTitle(conversation, myId).toLowerCase();
    const tier = title.startsWith(needle)
      ? 0
      : title.split(/[\s,]+/).some((word) => word.startsWith(needle))
        ? 1
        : matchesConversation(conversation, needle, myId)
          ? 2
          : null;
    if (tier !== null) tiers[tier]?.push(conversation);
  }
  return tiers.flat().slice(0, limit);
}

/** One or two letters for an avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = [...(words[0] as string)][0] ?? "";
  const second = words.length > 1 ? ([...(words.at(-1) as string)][0] ?? "") : ([...(words[0] as string)][1] ?? "");
  return (first + second).toUpperCase();
}

/** A stable hue (0-359) for someone's avatar, from their id. */
export function avatarHue(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i += 1) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % 360;
}

/**
 * The list's loaded pages after a `conversation.updated`: the entry replaced where it is (keeping
 * the newer last message), or, new to the reader, put at the top, where its creation or their
 * joining puts it.
 */
export function withConversation(pages: readonly (readonly Conversation[])[], conversation: Conversation): Conversation[][] {
  const listed = pages.some((page) => page.some((c) => c.id === conversation.id));
  if (listed) {
    return pages.map((page) => page.map((c) => (c.id === conversation.id ? { ...conversation, lastMessage: newer(c.lastMessage, conversation.lastMessage) } : c)));
  }
  const [first = [], ...rest] = pages;
  return [[conversation, ...first], ...rest.map((page) => [...page])];
}

/** The list's loaded pages without a conversation the reader left or was removed from. */
export function withoutConversation(pages: readonly (readonly Conversation[])[], conversationId: string): Conversation[][] {
  return pages.map((page) => page.filter((c) => c.id !== conversationId));
}
