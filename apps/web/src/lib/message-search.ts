// message.search's answer as the quick switcher shows it: grouped by conversation, and each
// snippet split into plain and highlighted parts from the server's ranges, so the screen builds
// text nodes and <mark> elements from them and nothing of a message is ever parsed as HTML.
import { describeError, toApiFailure } from "@parley/client";
import type { SearchResultDto as SearchResult } from "@parley/api/schemas";

export type { SearchResult };

/** Fewer characters than this (filters and spaces left out) are not worth asking the server about: a one-letter prefix matches nearly everything. */
export const SEARCH_MIN_CHARS = 2;

/** The text to search for, or null when what was typed is too short to search messages. */
export function messageSearchQuery(typed: string): string | null {
  const query = typed.trim();
  const words = query.replace(/\b(from|in|has):\S*/gi, "").replace(/["\s]/g, "");
  if (words.length >= SEARCH_MIN_CHARS) return query;
  // has:file needs no words: alone it lists the messages with files (of in:/from: when given).
  return /(^|\s)has:file(\s|$)/i.test(query) ? query : null;
}

export interface SnippetPart {
  text: string;
  highlighted: boolean;
}

/**
 * The snippet as parts in order, highlighted where a range says. Ranges out of order, overlapping
 * or past the end are clipped or left out rather than trusted.
 */
export function snippetParts(snippet: string, highlights: readonly { start: number; end: number }[]): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const { start, end } of highlights) {
    const from = Math.max(start, at);
    const to = Math.min(end, snippet.length);
    if (to <= from) continue;
    if (from > at) parts.push({ text: snippet.slice(at, from), highlighted: false });
    parts.push({ text: snippet.slice(from, to), highlighted: true });
    at = to;
  }
  if (at < snippet.length) parts.push({ text: snippet.slice(at), highlighted: false });
  return parts;
}

export interface ResultGroup {
  conversationId: string;
  results: SearchResult[];
}

/** Results grouped by conversation, the groups in the order of their first (newest) result, each group's results in the order given. */
export function groupByConversation(results: readonly SearchResult[]): ResultGroup[] {
  const groups = new Map<string, SearchResult[]>();
  for (const result of results) {
    const group = groups.get(result.conversationId);
    if (group) group.push(result);
    else groups.set(result.conversationId, [result]);
  }
  return [...groups].map(([conversationId, grouped]) => ({ conversationId, results: grouped }));
}

/**
 * Where to open a result: the conversation at the message, or, for a reply, at its thread's root
 * (`messageId`) with the thread open beside it at the reply (`replyId`).
 */
export function jumpTarget(result: Pick<SearchResult, "id" | "conversationId" | "threadId">): { conversationId: string; messageId: string; replyId: string | null } {
  return result.threadId ? { conversationId: result.conversationId, messageId: result.threadId, replyId: result.id } : { conversationId: result.conversationId, messageId: result.id, replyId: null };
}

/**
 * Why a search failed, in words: a query the server cannot run (only filters, an in: naming no
 * conversation of the reader's) is a hint about the query; a rate limit or a lost connection is a failure.
 */
export function describeSearchError(error: unknown): { text: string; aboutQuery: boolean } {
  const failure = toApiFailure(error);
  const said = error instanceof Error && error.message ? sentence(error.message) : null;
  switch (failure.code) {
    case "BAD_REQUEST":
      return { text: failure.issues.length > 0 ? failure.issues.map((i) => sentence(i.message)).join(" ") : (said ?? describeError(error)), aboutQuery: true };
    case "NOT_FOUND":
    case "FORBIDDEN":
      return { text: "in: names no conversation of yours.", aboutQuery: true };
    case "TOO_MANY_REQUESTS":
      return { text: said ?? describeError(error), aboutQuery: false };
    case null:
    default:
      return { text: describeError(error), aboutQuery: false };
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
