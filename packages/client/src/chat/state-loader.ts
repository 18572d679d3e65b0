// What the client reads to (re)build its state when the feed starts without a position: every page
// of conversation.list, and the statuses of the people the user shares conversations with.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { CONVERSATION_PAGE_MAX, PRESENCE_QUERY_MAX } from "@parley/api/limits";
import type { Conversation, UserPresence } from "../types";

/** Most pages read in one load (100 each): a bound, not an expectation. */
const MAX_PAGES = 100;

export async function loadAllConversations(api: TRPCClient<AppRouter>): Promise<Conversation[]> {
  const all: Conversation[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const items: Conversation[] = await api.conversation.list.query({ cursor, limit: CONVERSATION_PAGE_MAX });
    all.push(...items);
    const last = items.at(-1);
    if (items.length < CONVERSATION_PAGE_MAX || !last) break;
    cursor = last.id;
  }
  return all;
}

export async function readPresence(api: TRPCClient<AppRouter>, userIds: readonly string[]): Promise<UserPresence[]> {
  const statuses: UserPresence[] = [];
  for (let i = 0; i < userIds.length; i += PRESENCE_QUERY_MAX) {
    statuses.push(...(await api.user.presence.query({ userIds: userIds.slice(i, i + PRESENCE_QUERY_MAX) })));
  }
  return statuses;
}
