// message.search: the query language (words, "phrases", from:, in:, has:), who may search what
// (the conversations the caller is a member of now, read at each call), and the highlighted
// snippet of each result. Matching itself is the database's (db.search, packages/db's
// message-search.ts), over an index kept in step with every write.
import { isCjkWord, searchWords, searchWordsAt } from "@parley/db";
import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { SearchResultDto } from "../schemas.js";
import { toMessageDto } from "./selects.js";

/** Most words one query may hold (each one is a term the index matches). */
export const SEARCH_WORDS_MAX = 32;
/** A snippet is the whole content up to this many characters, else a part of about this length. */
export const SNIPPET_LENGTH = 200;
/** How much of the content before the first match a cut snippet shows. */
const SNIPPET_LEAD = 60;

export interface ParsedSearch {
  /** Groups of words that must be adjacent and in order; a plain word is a group of one. */
  phrases: string[][];
  /** The last word, when it is not in quotes: matched as the beginning of a word. */
  prefix: string | null;
  /** from:username, lower-cased. */
  from: string | null;
  /** in:conversationId. */
  in: string | null;
  /** has:file. */
  hasFile: boolean;
}

const FILTER = /^(from|in|has):(.*)$/i;

/** Reads a query: words, "quoted phrases" and filters, separated by white space. */
export function parseSearchQuery(query: string): ParsedSearch {
  const parsed: ParsedSearch = { phrases: [], prefix: null, from: null, in: null, hasFile: false };
  const setOnce = (key: "from" | "in", value: string) => {
    if (value === "") throw new DomainError("invalid", `${key}: needs a value`);
    if (parsed[key] !== null && parsed[key] !== value) throw new DomainError("invalid", `the query names two different ${key}: filters`);
    parsed[key] = value;
  };
  let last: { words: string[]; quoted: boolean } | null = null;
  // A quote left open runs to the end of the query.
  for (const m of query.matchAll(/"([^"]*)"?|[^\s"]+/g)) {
    const quoted = m[1];
    if (quoted !== undefined) {
      const words = searchWords(quoted);
      if (words.length > 0) {
        parsed.phrases.push(words);
        last = { words, quoted: true };
      }
      continue;
    }
    const filter = FILTER.exec(m[0]);
    if (filter) {
      const key = (filter[1] ?? "").toLowerCase();
      const value = filter[2] ?? "";
      if (key === "from") setOnce("from", value.replace(/^@/, "").toLowerCase());
      else if (key === "in") setOnce("in", value);
      else if (value.toLowerCase() === "file") parsed.hasFile = true;
      else throw new DomainError("invalid", "has: supports has:file only");
      continue;
    }
    const words = searchWords(m[0]);
    if (words.length === 0) continue;
    for (const word of words) parsed.phrases.push([word]);
    last = { words, quoted: false };
  }
  // The last word typed, outside quotes, may be unfinished: it matches the beginning of a word.
  if (last && !last.quoted && parsed.phrases.at(-1)?.length === 1) parsed.prefix = parsed.phrases.pop()?.[0] ?? null;
  const count = parsed.phrases.flat().length + (parsed.prefix === null ? 0 : 1);
  // has:file alone lists the messages with files (of from:, in: when given); other filters narrow words.
  if (count === 0 && !parsed.hasFile) throw new DomainError("invalid", "query has no words to search for (from: and in: narrow a search, they are not one; has:file alone lists files)");
  if (count > SEARCH_WORDS_MAX) throw new DomainError("invalid", `query may have at most ${SEARCH_WORDS_MAX} words`);
  return parsed;
}

export async function searchMessages(
  services: Pick<Services, "db" | "searchesByUser">,
  userId: string,
  input: { query: string; conversationId?: string | null | undefined; cursor?: string | null | undefined; limit: number },
): Promise<{ items: SearchResultDto[]; nextCursor: string | null }> {
  const { db, searchesByUser } = services;
  const parsed = parseSearchQuery(input.query);
  const wait = await searchesByUser.take(userId);
  if (wait > 0) throw new DomainError("rate_limited", `Too many searches. Try again in ${wait} seconds.`, wait);
  const asked = input.conversationId ?? parsed.in;
  if (input.conversationId && parsed.in !== null && parsed.in !== input.conversationId) {
    throw new DomainError("invalid", "in: names another conversation than conversationId");
  }
  // Membership as it is now, read for this call: someone removed a moment ago finds nothing more there.
  const scope = await db.search.scopeOf(userId, parsed.from);
  let conversationIds = scope.conversationIds;
  if (asked) {
    if (!conversationIds.includes(asked)) {
      const exists = await db.prisma.conversation.findUnique({ where: { id: asked }, select: { id: true } });
      throw exists ? new DomainError("forbidden", "You are not a member of this conversation") : new DomainError("not_found", "No such conversation");
    }
    conversationIds = [asked];
  }
  // from: someone who does not exist: nothing of theirs to find.
  if (parsed.from !== null && scope.senderId === null) return { items: [], nextCursor: null };
  const senderId = scope.senderId;
  const rows = await db.search.search({
    phrases: parsed.phrases,
    prefix: parsed.prefix,
    conversationIds,
    senderId,
    beforeId: input.cursor ? BigInt(input.cursor) : null,
    withFiles: parsed.hasFile,
    limit: input.limit + 1,
  });
  const page = rows.slice(0, input.limit);
  const oldest = page.at(-1);
  return {
    items: page.map((row) => ({ ...toMessageDto(row), ...snippetOf(row.content, parsed) })),
    nextCursor: rows.length > input.limit && oldest ? oldest.id.toString() : null,
  };
}

/** Case and accents aside, as the indexes compare words. */
const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

/** The places in `content` of what the query matched (UTF-16 offsets, end excluded), in order, merged. */
export function matchedRanges(content: string, parsed: Pick<ParsedSearch, "phrases" | "prefix">): [number, number][] {
  const words = new Set<string>();
  const substrings: string[] = [];
  for (const word of parsed.phrases.flat()) {
    if (isCjkWord(word)) substrings.push(word);
    else words.add(fold(word));
  }
  const prefix = parsed.prefix === null ? null : fold(parsed.prefix);
  if (prefix !== null && isCjkWord(prefix)) substrings.push(prefix);
  const ranges: [number, number][] = [];
  for (const { word, start, end } of searchWordsAt(content)) {
    if (isCjkWord(word)) continue;
    const folded = fold(word);
    if (words.has(folded) || (prefix !== null && !isCjkWord(prefix) && folded.startsWith(prefix))) ranges.push([start, end]);
  }
  for (const substring of substrings) {
    for (let at = content.indexOf(substring); at !== -1; at = content.indexOf(substring, at + substring.length)) ranges.push([at, at + substring.length]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const previous = merged.at(-1);
    if (previous && range[0] <= previous[1]) previous[1] = Math.max(previous[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** Moves an offset off the second half of a surrogate pair, so a cut never splits a character. */
const atCharacter = (text: string, at: number) => (at > 0 && at < text.length && /[\uDC00-\uDFFF]/.test(text[at] ?? "") ? at - 1 : at);

/** The snippet of a result: plain text and the places of the matches in it. */
export function snippetOf(content: string, parsed: Pick<ParsedSearch, "phrases" | "prefix">): { snippet: string; highlights: { start: number; end: number }[] } {
  const ranges = matchedRanges(content, parsed);
  if (content.length <= SNIPPET_LENGTH) return { snippet: content, highlights: ranges.map(([start, end]) => ({ start, end })) };
  const first = ranges[0]?.[0] ?? 0;
  let from = atCharacter(content, Math.max(0, first - SNIPPET_LEAD));
  // Start at a word's beginning when one is near: after the first space from the cut on (a cut just
  // after a space is one already).
  const space = from > 0 ? content.indexOf(" ", from - 1) : -1;
  if (space !== -1 && space < first && space - from < SNIPPET_LEAD / 2) from = space + 1;
  const to = atCharacter(content, Math.min(content.length, from + SNIPPET_LENGTH));
  const lead = from > 0 ? "…" : "";
  const snippet = lead + content.slice(from, to) + (to < content.length ? "…" : "");
  const highlights = ranges
    .filter(([start, end]) => start < to && end > from)
    .map(([start, end]) => ({ start: Math.max(start, from) - from + lead.length, end: Math.min(end, to) - from + lead.length }));
  return { snippet, highlights };
}
