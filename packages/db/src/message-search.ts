// Message search behind the db package's interface (`db.search`): one implementation per provider
// over the index its migration keeps in step with Message in every write's transaction (SQLite:
// FTS5 tables filled by triggers; PostgreSQL: a GIN index over an expression). Both first read the
// newest messages of the caller's conversations and match them one by one (a common word's page
// is there), then ask the index, below them, for the rest: matching every word, the conversations
// asked for and a sender inside the index, so a query never reads every message of those
// conversations. A beginning shared by many words (the last word of "deploy the") is the costly
// part of an index query on both; where the query has other words it is left to the check.
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { fromPostgres, fromSqlite, POSTGRES_MESSAGE_COLUMNS, SQLITE_MESSAGE_COLUMNS, type PostgresMessageRow, type SqliteMessageRow, type StoredMessage } from "./message-columns.js";

/**
 * What to find. Words are what `searchWords` makes of text: letters and digits only, each either
 * all Chinese/Japanese/Korean (CJK) characters, found as a substring, or none.
 */
export interface SearchRequest {
  /** Each group must be in the message as adjacent words in this order (a single word is a group of one). */
  phrases: readonly (readonly string[])[];
  /** A word that must begin a word of the message (the query's last word); null when there is none. */
  prefix: string | null;
  /** Where to look: at least one conversation. */
  conversationIds: readonly string[];
  /** Only messages of this sender, when set. */
  senderId: string | null;
  /** Only messages with ids below this (a page's cursor); null for the newest. */
  beforeId: bigint | null;
  /**
   * Only messages with files attached (has:file), when true. Then `phrases` may be empty and
   * `prefix` null: every message with files of the conversations (and sender) is a match.
   */
  withFiles?: boolean;
  limit: number;
}

export interface MessageSearch {
  /** Up to `limit` messages that are not deleted and match `request`, newest first. */
  search(request: SearchRequest): Promise<StoredMessage[]>;
  /**
   * Where `userId` may search, read now (one statement, prepared once: through Prisma, the query
   * cost about 3 ms more on every search): the conversations they are a member of, and the id of
   * the user named `username` (from:, lower case) or null when there is none.
   */
  scopeOf(userId: string, username: string | null): Promise<{ conversationIds: string[]; senderId: string | null }>;
  /**
   * Brings the index up to date with every message stored so far (search does it first by
   * itself). SQLite indexes what its indexer has not yet; PostgreSQL's index is always up to date.
   */
  catchUp(): Promise<void>;
}

/** The statement of scopeOf, with the provider's parameter markers. */
const scopeStatement = (user: string, name: string) =>
  `SELECT "conversationId" AS "id", 'c' AS "kind" FROM "ConversationMember" WHERE "userId" = ${user} ` +
  `UNION ALL SELECT "id", 'u' AS "kind" FROM "User" WHERE "username" = ${name}`;

function scopeFrom(rows: { id: string; kind: string }[]): { conversationIds: string[]; senderId: string | null } {
  return { conversationIds: rows.filter((r) => r.kind === "c").map((r) => r.id), senderId: rows.find((r) => r.kind === "u")?.id ?? null };
}

/** Chinese, Japanese (kana) and Korean (Hangul) characters: written without spaces between words. */
const CJK = "\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff\\uff66-\\uff9f";
const CJK_CHARACTER = new RegExp(`[${CJK}]`, "u");
/** A word: a run of letters, digits and combining marks, CJK and other characters apart. */
const WORD = new RegExp(`[${CJK}]+|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+`, "gu");

/** Whether a word of `searchWords` is CJK (found as a substring rather than as a word). */
export const isCjkWord = (word: string) => CJK_CHARACTER.test(word);

/** Has a letter or a digit: combining marks alone are no word (the indexes drop them). */
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** The words of `text` with their places (UTF-16 offsets), in order: what every search term is made of. */
export function searchWordsAt(text: string): { word: string; start: number; end: number }[] {
  return [...text.matchAll(WORD)].filter((m) => LETTER_OR_DIGIT.test(m[0])).map((m) => ({ word: m[0], start: m.index, end: m.index + m[0].length }));
}

/** The words of `text`, in order. */
export function searchWords(text: string): string[] {
  return searchWordsAt(text).map((w) => w.word);
}

// ---------------------------------------------------------------------------------------------
// SQLite: "MessageSearch" (unicode61 words, with conversationId and senderId columns) and
// "MessageSearchCjk" (trigrams of the messages with CJK characters); rowid = Message.id.

/** An FTS5 string: the tokenizer splits and folds it as it did the indexed text. */
const ftsString = (text: string) => `"${text.replaceAll('"', '""')}"`;

/** A beginning of at most this many characters is left out of the index's query while there are other words (sqliteMatch). */
const SHORT_PREFIX = 3;

/** The trigram index finds substrings of at least this many characters. */
const TRIGRAM = 3;

/**
 * The FTS5 expressions of a request: `words` for MessageSearch, `substrings` for MessageSearchCjk
 * (null when it has none). A CJK word of one or two characters, too short for trigrams, is
 * matched as the beginning of a run of CJK characters in MessageSearch (unicode61 keeps such a
 * run as one token): found at the start of a sentence or after a space or a Latin word, not inside.
 */
export function sqliteMatch(request: SearchRequest): { words: string; substrings: string | null; scope: string; withoutPrefix: string | null } {
  const content: string[] = [];
  const substrings: string[] = [];
  for (const phrase of request.phrases) {
    const latin = phrase.filter((w) => !isCjkWord(w));
    if (latin.length > 0) content.push(ftsString(latin.join(" ")));
    for (const w of phrase.filter(isCjkWord)) {
      if ([...w].length >= TRIGRAM) substrings.push(ftsString(w));
      else content.push(`${ftsString(w)} *`);
    }
  }
  const others = [...content];
  // A short beginning is shared by many words (a long one by few, merged quickly).
  const latinPrefix = request.prefix !== null && !isCjkWord(request.prefix) && [...request.prefix].length <= SHORT_PREFIX;
  if (request.prefix !== null) {
    if (isCjkWord(request.prefix) && [...request.prefix].length >= TRIGRAM) substrings.push(ftsString(request.prefix));
    else content.push(`${ftsString(request.prefix)} *`);
  }
  const scope = [`{conversationId}: (${request.conversationIds.map(ftsString).join(" OR ")})`];
  if (request.senderId !== null) scope.push(`{senderId}: ${ftsString(request.senderId)}`);
  const words = [...scope, ...(content.length > 0 ? [`{content}: (${content.join(" AND ")})`] : [])].join(" AND ");
  return {
    words,
    substrings: substrings.length > 0 ? substrings.join(" AND ") : null,
    scope: scope.join(" AND "),
    withoutPrefix: latinPrefix && others.length > 0 ? [...scope, `{content}: (${others.join(" AND ")})`].join(" AND ") : null,
  };
}

/** How many of the newest messages of the caller's conversations (below the cursor) the first look reads. */
export const SQLITE_RECENT_WINDOW = 500;
/** How many windows of messages with a query's other words are looked at before its prefix is asked of the index. */
const SQLITE_NARROWED_WINDOWS = 4;
/**
 * How many windows of messages with files (has:file) are looked at, newest first, before the
 * index is asked: 10,000 messages with files in the asked conversations.
 */
export const FILE_WINDOWS = 20;

/** The characters that put a message in "MessageSearchCjk" (as the migration's triggers have them). */
export const CJK_GLOB = "*[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]*";

/**
 * The first look's tables, per connection: the window's messages, and full-text tables over
 * them with the index's own tokenizers, so a message is matched exactly as the index would.
 */
const WINDOW_TABLES = `
CREATE TEMP TABLE IF NOT EXISTS "SearchWindow" ("id" INTEGER PRIMARY KEY, "content" TEXT NOT NULL, "conversationId" TEXT NOT NULL, "senderId" TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS temp."SearchWindowWords" USING fts5("content", "conversationId", "senderId", tokenize = 'unicode61 remove_diacritics 2', content = 'SearchWindow', content_rowid = 'id');
CREATE VIRTUAL TABLE IF NOT EXISTS temp."SearchWindowCjk" USING fts5("content", tokenize = 'trigram case_sensitive 0 remove_diacritics 1', content = 'SearchWindow', content_rowid = 'id');
`;

/** `beforeSearch`: what brings the index up to date first (the search indexer's indexPending). */
export function sqliteMessageSearch(client: BetterSqlite3.Database, beforeSearch: () => Promise<unknown> = () => Promise.resolve()): MessageSearch {
  // Prepared on first use (the database may not be migrated when it is opened), one per shape.
  const statements = new Map<string, BetterSqlite3.Statement<unknown[], SqliteMessageRow>>();
  const statement = (before: boolean, substrings: boolean, withFiles = false) => {
    const key = `${before}/${substrings}/${withFiles}`;
    let prepared = statements.get(key);
    if (!prepared) {
      // The inner query walks the index newest first and stops at the limit; only the rows it
      // returns are read from Message. The CJK matches are a set it checks each row against
      // ("+" keeps them from MessageSearch's own lookup: offered as a rowid list, they made
      // SQLite run the whole MATCH once per CJK match, 20 s with 1,000,000 messages).
      const ids =
        `SELECT "rowid" FROM "MessageSearch" WHERE "MessageSearch" MATCH @words` +
        (before ? ` AND "rowid" < @before` : "") +
        (substrings ? ` AND +"rowid" IN (SELECT "rowid" FROM "MessageSearchCjk" WHERE "MessageSearchCjk" MATCH @substrings)` : "") +
        (withFiles ? ` AND +"rowid" IN (SELECT "messageId" FROM "Attachment" WHERE "conversationId" IN (SELECT "value" FROM json_each(@conversations)) AND "messageId" < @before)` : "") +
        ` ORDER BY "rowid" DESC LIMIT @limit`;
      prepared = client.prepare<unknown[], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "id" IN (${ids}) ORDER BY "id" DESC`);
      statements.set(key, prepared);
    }
    return prepared;
  };
  let window: ReturnType<typeof windowStatements> | null = null;
  // (Declared before use by the closures below; prepared on first use.)
  const windowStatements = () => {
    client.exec(WINDOW_TABLES);
    const newest = (before: boolean) =>
      client.prepare<unknown[], { id: bigint }>(
        `SELECT "rowid" AS "id" FROM "MessageSearch" WHERE "MessageSearch" MATCH @scope${before ? ` AND "rowid" < @before` : ""} ORDER BY "rowid" DESC LIMIT ${SQLITE_RECENT_WINDOW}`,
      );
    const matches = (substrings: boolean) =>
      client.prepare<unknown[], { id: bigint }>(
        `SELECT "rowid" AS "id" FROM "SearchWindowWords" WHERE "SearchWindowWords" MATCH @words` +
          (substrings ? ` AND +"rowid" IN (SELECT "rowid" FROM "SearchWindowCjk" WHERE "SearchWindowCjk" MATCH @substrings)` : "") +
          ` ORDER BY "rowid" DESC LIMIT @limit`,
      );
    const withFiles = (before: boolean) =>
      client.prepare<unknown[], { id: bigint }>(
        `SELECT DISTINCT "messageId" AS "id" FROM "Attachment" WHERE "conversationId" IN (SELECT "value" FROM json_each(@conversations)) AND "messageId" IS NOT NULL` +
          `${before ? ` AND "messageId" < @before` : ""} ORDER BY "messageId" DESC LIMIT ${SQLITE_RECENT_WINDOW}`,
      );
    return {
      newest: { after: newest(false), before: newest(true) },
      withFiles: { after: withFiles(false), before: withFiles(true) },
      fill: client.prepare(`INSERT INTO "SearchWindow" SELECT "id", "content", "conversationId", "senderId" FROM "Message" WHERE "id" IN (SELECT "value" FROM json_each(?)) AND "deletedAt" IS NULL`),
      index: client.prepare(`INSERT INTO "SearchWindowWords" ("rowid", "content", "conversationId", "senderId") SELECT "id", "content", "conversationId", "senderId" FROM "SearchWindow"`),
      indexCjk: client.prepare(`INSERT INTO "SearchWindowCjk" ("rowid", "content") SELECT "id", "content" FROM "SearchWindow" WHERE "content" GLOB '${CJK_GLOB}'`),
      matches: { words: matches(false), substrings: matches(true) },
      clear: [
        client.prepare(`INSERT INTO "SearchWindowWords" ("SearchWindowWords") VALUES ('delete-all')`),
        client.prepare(`INSERT INTO "SearchWindowCjk" ("SearchWindowCjk") VALUES ('delete-all')`),
        client.prepare(`DELETE FROM "SearchWindow"`),
      ],
      rows: client.prepare<[string], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "id" IN (SELECT "value" FROM json_each(?)) ORDER BY "id" DESC`),
    };
  };
  /**
   * The first look: the newest messages of the asked conversations (and sender), below the
   * cursor, from the index's own conversation and sender columns (read lazily, newest first),
   * matched in the window's tables. A common word's matches are there, and a prefix shared by
   * many words costs no more than a rare one (in the whole index FTS5 merges every word a prefix
   * begins before it returns a row: "the" took 38 ms with 1,000,000 messages). `complete` when
   * the window held every such message, so its matches are all there are.
   */
  /**
   * Matches `ids` (candidates, newest first) in the window's tables: the ones that match `words`
   * and `substrings`, newest first, at most `limit`.
   */
  const match = (ids: readonly bigint[], words: string, substrings: string | null, limit: number): bigint[] => {
    if (ids.length === 0) return [];
    window ??= windowStatements();
    const w = window;
    return client.transaction(() => {
      w.fill.run(JSON.stringify(ids.map(Number)));
      w.index.run();
      if (substrings !== null) w.indexCjk.run();
      const matched = substrings === null ? w.matches.words.all({ words, limit }) : w.matches.substrings.all({ words, substrings, limit });
      for (const clear of w.clear) clear.run();
      return matched.map((row) => row.id);
    })();
  };
  /**
   * A look at a window of candidates: the newest messages (below `before`) that the index finds
   * for `candidates` (read lazily, newest first), matched. `complete` when the window held every
   * such message, so its matches are all there are.
   */
  const look = (candidates: string, before: bigint | null, words: string, substrings: string | null, limit: number) => {
    window ??= windowStatements();
    const ids = (before === null ? window.newest.after.all({ scope: candidates }) : window.newest.before.all({ scope: candidates, before })).map((row) => row.id);
    return { matched: match(ids, words, substrings, limit), oldest: ids.at(-1) ?? null, complete: ids.length < SQLITE_RECENT_WINDOW };
  };
  /** The same over the messages with files of the asked conversations. */
  const lookAtFiles = (request: SearchRequest, before: bigint | null, words: string, substrings: string | null, limit: number) => {
    window ??= windowStatements();
    const conversations = JSON.stringify(request.conversationIds);
    const ids = (before === null ? window.withFiles.after.all({ conversations }) : window.withFiles.before.all({ conversations, before })).map((row) => row.id);
    return { matched: match(ids, words, substrings, limit), oldest: ids.at(-1) ?? null, complete: ids.length < SQLITE_RECENT_WINDOW };
  };
  let scopeQuery: BetterSqlite3.Statement<[{ user: string; name: string | null }], { id: string; kind: string }> | null = null;
  return {
    async scopeOf(userId, username) {
      scopeQuery ??= client.prepare<[{ user: string; name: string | null }], { id: string; kind: string }>(scopeStatement("@user", "@name"));
      return scopeFrom(scopeQuery.all({ user: userId, name: username }));
    },
    async catchUp() {
      await beforeSearch();
    },
    async search(request) {
      if (request.conversationIds.length === 0) return [];
      await beforeSearch();
      const { words, substrings, scope, withoutPrefix } = sqliteMatch(request);
      const matched: bigint[] = [];
      const rows = () => (matched.length === 0 ? [] : (window?.rows.all(JSON.stringify(matched.map(Number))) ?? []).map(fromSqlite));
      let before = request.beforeId;
      if (request.withFiles === true) {
        // The messages with files, newest first, a window at a time: fewer than messages are.
        for (let round = 0; round < FILE_WINDOWS; round += 1) {
          const next = lookAtFiles(request, before, words, substrings, request.limit - matched.length);
          matched.push(...next.matched);
          if (matched.length === request.limit || next.complete || next.oldest === null) return rows();
          before = next.oldest;
        }
        // Past them, the index, each match checked for files.
        const params: Record<string, unknown> = { words, limit: request.limit - matched.length, before, conversations: JSON.stringify(request.conversationIds) };
        if (substrings !== null) params.substrings = substrings;
        return [...rows(), ...statement(true, substrings !== null, true).all(params).map(fromSqlite)];
      }
      const first = look(scope, before, words, substrings, request.limit);
      matched.push(...first.matched);
      if (matched.length === request.limit || first.complete || first.oldest === null) return rows();
      before = first.oldest;
      // Then, when the last word is a beginning and there are other words, the messages with the
      // other words, newest first, a window at a time (a few: the beginning may be rare and the
      // others common), so a prefix shared by many words is not merged whole.
      if (withoutPrefix !== null) {
        for (let round = 0; round < SQLITE_NARROWED_WINDOWS; round += 1) {
          const next = look(withoutPrefix, before, words, substrings, request.limit - matched.length);
          matched.push(...next.matched);
          if (matched.length === request.limit || next.complete || next.oldest === null) return rows();
          before = next.oldest;
        }
      }
      // Then the index, below what was looked at, for the rest of the page.
      const params: Record<string, unknown> = { words, limit: request.limit - matched.length, before };
      if (substrings !== null) params.substrings = substrings;
      return [...rows(), ...statement(true, substrings !== null).all(params).map(fromSqlite)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the GIN index "Message_search_idx" over parley_search_vector(content, conversationId,
// senderId), for messages that are not deleted.

/** A tsquery operand, quoted. */
const tsLexeme = (text: string) => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;

/** A word as tsquery text: a CJK word as the phrase of its characters (each is a lexeme of the vector). */
const tsWord = (word: string) => (isCjkWord(word) ? [...word].map(tsLexeme).join(" <-> ") : tsLexeme(word));

/**
 * The request as tsquery texts: `words`, for to_tsquery with the index's configuration (which
 * folds case and accents as it did for the messages); `loose`, the same with each phrase's words
 * merely all present, which a GIN index answers without reading the rows again (positions are not
 * in it); and `filters`, the conversation and sender lexemes, taken as they are.
 */
export function postgresQuery(request: SearchRequest): { words: string; loose: string; withoutPrefix: string | null; filters: string } {
  const words = request.phrases.map((phrase) => `(${phrase.map(tsWord).join(" <-> ")})`);
  const loose = request.phrases.map((phrase) => `(${phrase.flatMap((w) => (isCjkWord(w) ? [...w] : [w])).map(tsLexeme).join(" & ")})`);
  if (request.prefix !== null) {
    const last = isCjkWord(request.prefix) ? `(${tsWord(request.prefix)})` : `${tsLexeme(request.prefix)}:*`;
    words.push(last);
    loose.push(isCjkWord(request.prefix) ? `(${[...request.prefix].map(tsLexeme).join(" & ")})` : last);
  }
  const filters = [`(${request.conversationIds.map((id) => tsLexeme(`c:${id}`)).join(" | ")})`];
  if (request.senderId !== null) filters.push(tsLexeme(`u:${request.senderId}`));
  // `loose` without a last word matched as a beginning, when the query has other words or a sender
  // to narrow by ("" when only the sender is left).
  const withoutPrefix = request.prefix !== null && !isCjkWord(request.prefix) && (request.phrases.length > 0 || request.senderId !== null) ? loose.slice(0, -1).join(" & ") : null;
  return { words: words.join(" & "), loose: loose.join(" & "), withoutPrefix, filters: filters.join(" & ") };
}

/**
 * How many of the newest messages of the caller's conversations (below the cursor) the first look
 * reads: enough for a page of a word common where the caller is.
 */
export const POSTGRES_RECENT_WINDOW = 500;
/** The most messages one look after the first reads, and all of them together (see postgresMessageSearch). */
export const POSTGRES_SECOND_LOOK = 4_000;
const POSTGRES_MORE_LOOKS = 8_000;

/** Not a letter or digit of ASCII: what separates words in a text of ASCII characters. */
const ASCII_GAP = "[^a-z0-9]";

/**
 * A regular expression (for `~*`) that a text of ASCII characters matches exactly when it has the
 * words of `request` that are not CJK: there, words are the runs of letters and digits, folded to
 * lower case only. null when a word is not ASCII (accents fold: "café" finds "cafe").
 */
export function asciiPatterns(request: Pick<SearchRequest, "phrases" | "prefix">): string[] | null {
  const groups = request.phrases.map((phrase) => phrase.filter((w) => !isCjkWord(w))).filter((g) => g.length > 0);
  const prefix = request.prefix !== null && !isCjkWord(request.prefix) ? request.prefix : null;
  if ([...groups.flat(), ...(prefix === null ? [] : [prefix])].some((w) => !/^[A-Za-z0-9]+$/.test(w))) return null;
  // A phrase's words with only separators between them (CJK words in it aside: then merely in order).
  const phrases = request.phrases.map((phrase) => {
    const latin = phrase.filter((w) => !isCjkWord(w));
    return latin.length === 0 ? null : `(^|${ASCII_GAP})${latin.join(latin.length === phrase.length ? `${ASCII_GAP}+` : ".*")}(${ASCII_GAP}|$)`;
  });
  return [...phrases.filter((p) => p !== null), ...(prefix === null ? [] : [`(^|${ASCII_GAP})${prefix}`])];
}

/** The search vector of "Message", as the index has it: the planner uses the index for exactly this expression. */
const VECTOR = `"parley_search_vector"("content", "conversationId", "senderId")`;

/** A beginning shared by words in at least this share of the messages is "common". */
export const COMMON_PREFIX_SHARE = 0.01;
/** How much rarer than a common beginning another word must be for the index to be asked for it alone. */
const RARER_BY = 8;
/** How long the index's statistics are trusted before they are read again. */
const STATISTICS_TTL_MS = 10 * 60_000;

/** Case and accents folded as the index folds them (near enough to compare with its statistics). */
const folded = (word: string) => word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

export function postgresMessageSearch(pool: pg.Pool): MessageSearch {
  // The search index's most common words with the share of messages each is in, from
  // PostgreSQL's own statistics (ANALYZE, autovacuum), to tell a common beginning from a rare one.
  let statistics: { words: string[]; shares: number[]; readAt: number } | null = null;
  const read = async () => {
    if (statistics === null || Date.now() - statistics.readAt > STATISTICS_TTL_MS) {
      const { rows } = await pool.query<{ words: string[] | null; shares: number[] | null }>(
        `SELECT "most_common_elems"::text::text[] AS "words", "most_common_elem_freqs"::float8[] AS "shares" FROM "pg_stats" ` +
          `WHERE "schemaname" = current_schema() AND "tablename" = 'Message_search_idx' LIMIT 1`,
      );
      statistics = { words: rows[0]?.words ?? [], shares: rows[0]?.shares ?? [], readAt: Date.now() };
    }
    return statistics;
  };
  /**
   * Whether to leave the last word, a beginning, out of what the index is asked: when it is
   * common (GIN reads the entries of every word it begins into a bitmap before intersecting them:
   * "the" took 20 ms with 1,000,000 messages) and another word of the query is far rarer, so the
   * rows the index gives for the others are few to check. Words the statistics do not list are rare.
   */
  const leavePrefixOut = async (request: SearchRequest): Promise<boolean> => {
    if (request.prefix === null || isCjkWord(request.prefix) || (request.phrases.length === 0 && request.senderId === null)) return false;
    const { words, shares } = await read();
    const beginning = folded(request.prefix);
    const shareOf = (word: string) => shares[words.indexOf(folded(word))] ?? 0;
    const prefixShare = words.reduce((sum, word, i) => (word.startsWith(beginning) ? sum + (shares[i] ?? 0) : sum), 0);
    // A sender's messages are few among all (the statistics do not count them).
    const rarest = request.senderId !== null ? 0 : Math.min(...request.phrases.flat().flatMap((w) => (isCjkWord(w) ? [...w] : [w])).map(shareOf));
    return prefixShare >= COMMON_PREFIX_SHARE && rarest * RARER_BY <= prefixShare;
  };
  /**
   * The share of messages expected to match the query's words, from the same statistics, taking
   * the words as independent (a phrase's words as merely present): a word they do not list is in
   * fewer messages than the least common one they do, so at most that. null when it cannot be told
   * (a sender, CJK, has:file).
   */
  const expectedShare = async (request: SearchRequest): Promise<number | null> => {
    const all = [...request.phrases.flat(), ...(request.prefix === null ? [] : [request.prefix])];
    if (request.senderId !== null || request.withFiles === true || all.length === 0 || all.some(isCjkWord)) return null;
    const { words, shares } = await read();
    if (words.length === 0) return null;
    const unlisted = Math.min(...shares);
    const shareOf = (word: string) => {
      const i = words.indexOf(folded(word));
      return i < 0 ? unlisted : (shares[i] ?? unlisted);
    };
    const beginning = request.prefix === null ? null : folded(request.prefix);
    const prefixShare = beginning === null ? 1 : Math.min(1, words.reduce((sum, word, i) => (word.startsWith(beginning) ? sum + (shares[i] ?? 0) : sum), 0) || unlisted);
    return request.phrases.flat().reduce((share, word) => share * shareOf(word), prefixShare);
  };
  return {
    async scopeOf(userId, username) {
      const { rows } = await pool.query<{ id: string; kind: string }>({ name: "parley_search_scope", text: scopeStatement("$1::text", "$2::text"), values: [userId, username] });
      return scopeFrom(rows);
    },
    async catchUp() {
      // The GIN index takes every row in the row's own transaction.
    },
    async search(request) {
      if (request.conversationIds.length === 0) return [];
      const { words, loose: allLoose, withoutPrefix, filters } = postgresQuery(request);
      const patterns = asciiPatterns(request);
      // Both statements are written by one function, each with its own parameters.
      const statement = (write: (param: (value: unknown, type: string) => string) => string) => {
        const values: unknown[] = [];
        const text = write((value, type) => {
          values.push(value);
          return `$${values.length}::${type}`;
        });
        return pool.query<PostgresMessageRow>(text, values);
      };
      // A row of ASCII text cannot hold a CJK word; otherwise the regular expressions decide it exactly.
      const cjk = request.phrases.some((phrase) => phrase.some(isCjkWord)) || (request.prefix !== null && isCjkWord(request.prefix));
      const parts = (param: (value: unknown, type: string) => string, check: boolean) => {
        const query = `(to_tsquery('parley_search', ${param(words, "text")}) && ${param(filters, "tsquery")})`;
        // Checking a row by its vector computes the vector again (tens of microseconds: two
        // regular expressions and the parser), so the sender is compared first, and a row of
        // ASCII text, most rows, is decided by the regular expressions (exact there) alone.
        const ascii = !check ? null : cjk ? "FALSE" : patterns === null ? null : `"content" ~* ALL (${param(patterns, "text[]")})`;
        const conditions = [
          ...(!check || request.senderId === null ? [] : [`WHEN "senderId" <> ${param(request.senderId, "text")} THEN FALSE`]),
          ...(ascii === null ? [] : [`WHEN "content" ~ '^[\\x01-\\x7f]*$' THEN ${ascii}`]),
        ];
        return {
          query,
          checked: conditions.length === 0 ? `${VECTOR} @@ ${query}` : `CASE ${conditions.join(" ")} ELSE ${VECTOR} @@ ${query} END`,
        };
      };
      if (request.withFiles === true) {
        // The messages with files of the asked conversations, newest first from the attachments'
        // (conversationId, messageId) index, a window at a time, each one checked.
        const found: PostgresMessageRow[] = [];
        let before = request.beforeId;
        const check = async (candidates: (param: (value: unknown, type: string) => string) => string) =>
          (
            await statement((param) => {
              // With no words, every message with files is a match (of the sender, when asked).
              const condition = words === "" ? (request.senderId === null ? "TRUE" : `"senderId" = ${param(request.senderId, "text")}`) : parts(param, true).checked;
              return (
                `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "Message"."id" IN (${candidates(param)}) AND "deletedAt" IS NULL AND ${condition} ` +
                `ORDER BY "Message"."id" DESC LIMIT ${param(request.limit - found.length, "int")}`
              );
            })
          ).rows;
        for (let round = 0; round < FILE_WINDOWS; round += 1) {
          const window = await pool.query<{ id: string }>(
            `SELECT DISTINCT "messageId"::text AS "id", "messageId" FROM "Attachment" WHERE "conversationId" = ANY ($1::text[]) AND "messageId" IS NOT NULL` +
              `${before === null ? "" : ` AND "messageId" < $2::bigint`} ORDER BY "messageId" DESC LIMIT ${POSTGRES_RECENT_WINDOW}`,
            before === null ? [request.conversationIds] : [request.conversationIds, before.toString()],
          );
          const ids = window.rows.map((row) => row.id);
          if (ids.length > 0) found.push(...(await check((param) => `SELECT unnest(${param(ids, "bigint[]")})`)));
          const oldest = ids.at(-1);
          if (found.length === request.limit || ids.length < POSTGRES_RECENT_WINDOW || oldest === undefined) return found.map(fromPostgres);
          before = BigInt(oldest);
        }
        // Past them, every remaining one at once.
        const below = before;
        found.push(
          ...(await check(
            (param) =>
              `SELECT "messageId" FROM "Attachment" WHERE "conversationId" = ANY (${param(request.conversationIds, "text[]")})` +
              (below === null ? "" : ` AND "messageId" < ${param(below.toString(), "bigint")}`),
          )),
        );
        return found.map(fromPostgres);
      }
      // GIN gives matches in no order, so there are two ways to a page, and the planner, which
      // cannot tell how the words and the caller's conversations overlap, was seen to pick the
      // wrong one (a rare word in many conversations read the whole table newest first: 2 s at
      // 100,000 messages). So the order is fixed here. First the newest messages of the caller's
      // conversations (each one's newest ids from the (conversationId, id) index, merged), checked
      // one by one, newest first, until the page is full: a page when the words are common where
      // the caller is, a bounded cost otherwise. (The newest messages of the whole table hold few
      // of a caller's when there are many conversations: at 1,000, a common word missed the page
      // there and then sorted every match of the caller's, 300 ms and more.)
      const found: PostgresMessageRow[] = [];
      /** Adds the ones of `ids` (newest first) that match, up to the page. */
      const checkIds = async (ids: string[]) => {
        if (ids.length === 0) return;
        const { rows } = await statement((param) => {
          const { checked } = parts(param, true);
          return (
            `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "Message"."id" = ANY (${param(ids, "bigint[]")}) AND "deletedAt" IS NULL AND ${checked} ` +
            `ORDER BY "Message"."id" DESC LIMIT ${param(request.limit - found.length, "int")}`
          );
        });
        found.push(...rows);
      };
      /** The newest ids of the asked conversations below `below` (and from `from` on), at most `count`: each conversation's from its index, merged. */
      const newestIds = async (below: bigint | null, from: bigint | null, count: number) => {
        const values: unknown[] = [request.conversationIds];
        const range = [below === null ? "" : ` AND "id" < $${values.push(below.toString())}::bigint`, from === null ? "" : ` AND "id" >= $${values.push(from.toString())}::bigint`].join("");
        const { rows } = await pool.query<{ id: string }>(
          `SELECT c."id"::text AS "id" FROM unnest($1::text[]) AS "conversation"("id") CROSS JOIN LATERAL ` +
            `(SELECT "id" FROM "Message" WHERE "conversationId" = "conversation"."id"${range} ORDER BY "id" DESC LIMIT ${count}) AS c ORDER BY c."id" DESC LIMIT ${count}`,
          values,
        );
        return rows.map((row) => row.id);
      };
      /**
       * The index, below what was looked at: every match there in the caller's conversations
       * (few, as the looks found them sparse), sorted. "+ 0" keeps the planner off the primary
       * key's order. A phrase is asked of the index as its words (so it need not read the rows
       * again), then checked on the rows it gives. Not a named statement: planned with the
       * values each time.
       */
      const fromIndex = async (below: bigint | null): Promise<PostgresMessageRow[]> => {
        const loose = withoutPrefix !== null && (await leavePrefixOut(request)) ? withoutPrefix : allLoose;
        const matched = await statement((param) => {
          const exact = loose === words;
          const { query, checked } = parts(param, !exact);
          const indexed = exact ? query : loose === "" ? param(filters, "tsquery") : `(to_tsquery('parley_search', ${param(loose, "text")}) && ${param(filters, "tsquery")})`;
          return (
            `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE ${VECTOR} @@ ${indexed} AND "deletedAt" IS NULL` +
            `${below === null ? "" : ` AND "Message"."id" < ${param(below.toString(), "bigint")}`}` +
            `${exact ? "" : ` AND ${checked}`} ORDER BY "Message"."id" + 0 DESC LIMIT ${param(request.limit - found.length, "int")}`
          );
        });
        return matched.rows;
      };
      // Unless the statistics say a look of POSTGRES_SECOND_LOOK messages would not hold a page:
      // words each common but seldom together ("of that": one message in ten each, one in a
      // hundred both), or a rare word. The looks below would stop at that density too, after the
      // first, so they would only add their cost to the index's.
      const share = await expectedShare(request);
      if (share !== null && share * POSTGRES_SECOND_LOOK < request.limit) return (await fromIndex(request.beforeId)).map(fromPostgres);
      const first = await newestIds(request.beforeId, null, POSTGRES_RECENT_WINDOW);
      await checkIds(first);
      const newest = first[0];
      const oldest = first.at(-1);
      if (found.length === request.limit || first.length < POSTGRES_RECENT_WINDOW || newest === undefined || oldest === undefined) return found.map(fromPostgres);
      let boundary = BigInt(oldest);
      // More looks when the first found the words common enough for the rest of the page within
      // a few thousand messages more (a page of 50 of a word in one message in ten, say): the ids
      // just below the last look's, as many as that takes at the density found so far (at least
      // twice the first look's), up to POSTGRES_MORE_LOOKS messages in all. Checking a row costs
      // microseconds; the index query for such words costs tens of milliseconds.
      let examined = first.length;
      const idsPerRow = Number(BigInt(newest) - boundary) / (first.length - 1);
      while (found.length > 0) {
        const wanted = Math.max(2 * POSTGRES_RECENT_WINDOW, Math.ceil(((request.limit - found.length) * examined * 1.5) / found.length));
        if (wanted > POSTGRES_SECOND_LOOK || examined - first.length + wanted > POSTGRES_MORE_LOOKS) break;
        const from = boundary - BigInt(Math.ceil(idsPerRow * wanted));
        const more = await newestIds(boundary, from, POSTGRES_SECOND_LOOK);
        await checkIds(more);
        examined += more.length;
        const last = more.at(-1);
        if (found.length === request.limit) return found.map(fromPostgres);
        // Every message from `from` on was looked at, or the look stopped at its size.
        boundary = more.length === POSTGRES_SECOND_LOOK && last !== undefined ? BigInt(last) : from;
        if (boundary <= 0n) return found.map(fromPostgres);
      }
      return [...found, ...(await fromIndex(boundary))].map(fromPostgres);
    },
  };
}
