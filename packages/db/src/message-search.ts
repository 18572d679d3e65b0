// Message search behind the db package's interface (`db.search`): one implementation per provider
// over the index its migration keeps in step with Message in every write's transaction (SQLite:
// FTS5 tables filled by triggers; PostgreSQL: a GIN index over an expression). Both match every
// word, the conversations asked for and a sender inside the index, and take the matches newest
// first from it, so a query reads the matches it returns (SQLite) or the matches in the asked
// conversations (PostgreSQL), never every message of those conversations.
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
  limit: number;
}

export interface MessageSearch {
  /** Up to `limit` messages that are not deleted and match `request`, newest first. */
  search(request: SearchRequest): Promise<StoredMessage[]>;
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

/** The trigram index finds substrings of at least this many characters. */
const TRIGRAM = 3;

/**
 * The FTS5 expressions of a request: `words` for MessageSearch, `substrings` for MessageSearchCjk
 * (null when it has none). A CJK word of one or two characters, too short for trigrams, is
 * matched as the beginning of a run of CJK characters in MessageSearch (unicode61 keeps such a
 * run as one token): found at the start of a sentence or after a space or a Latin word, not inside.
 */
export function sqliteMatch(request: SearchRequest): { words: string; substrings: string | null } {
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
  if (request.prefix !== null) {
    if (isCjkWord(request.prefix) && [...request.prefix].length >= TRIGRAM) substrings.push(ftsString(request.prefix));
    else content.push(`${ftsString(request.prefix)} *`);
  }
  const parts = [`{conversationId}: (${request.conversationIds.map(ftsString).join(" OR ")})`];
  if (request.senderId !== null) parts.push(`{senderId}: ${ftsString(request.senderId)}`);
  if (content.length > 0) parts.push(`{content}: (${content.join(" AND ")})`);
  return { words: parts.join(" AND "), substrings: substrings.length > 0 ? substrings.join(" AND ") : null };
}

export function sqliteMessageSearch(client: BetterSqlite3.Database): MessageSearch {
  // Prepared on first use (the database may not be migrated when it is opened), one per shape.
  const statements = new Map<string, BetterSqlite3.Statement<unknown[], SqliteMessageRow>>();
  const statement = (before: boolean, substrings: boolean) => {
    const key = `${before}/${substrings}`;
    let prepared = statements.get(key);
    if (!prepared) {
      // The inner query walks the index newest first and stops at the limit; only the rows it
      // returns are read from Message.
      const ids =
        `SELECT "rowid" FROM "MessageSearch" WHERE "MessageSearch" MATCH @words` +
        (before ? ` AND "rowid" < @before` : "") +
        (substrings ? ` AND "rowid" IN (SELECT "rowid" FROM "MessageSearchCjk" WHERE "MessageSearchCjk" MATCH @substrings)` : "") +
        ` ORDER BY "rowid" DESC LIMIT @limit`;
      prepared = client.prepare<unknown[], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "id" IN (${ids}) ORDER BY "id" DESC`);
      statements.set(key, prepared);
    }
    return prepared;
  };
  return {
    async search(request) {
      if (request.conversationIds.length === 0) return [];
      const { words, substrings } = sqliteMatch(request);
      const params: Record<string, unknown> = { words, limit: request.limit };
      if (request.beforeId !== null) params.before = request.beforeId;
      if (substrings !== null) params.substrings = substrings;
      return statement(request.beforeId !== null, substrings !== null).all(params).map(fromSqlite);
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
 * The request as two tsquery texts: `words`, for to_tsquery with the index's configuration (which
 * folds case and accents as it did for the messages), and `filters`, the conversation and sender
 * lexemes, taken as they are.
 */
export function postgresQuery(request: SearchRequest): { words: string; filters: string } {
  const words = request.phrases.map((phrase) => `(${phrase.map(tsWord).join(" <-> ")})`);
  if (request.prefix !== null) words.push(isCjkWord(request.prefix) ? `(${tsWord(request.prefix)})` : `${tsLexeme(request.prefix)}:*`);
  const filters = [`(${request.conversationIds.map((id) => tsLexeme(`c:${id}`)).join(" | ")})`];
  if (request.senderId !== null) filters.push(tsLexeme(`u:${request.senderId}`));
  return { words: words.join(" & "), filters: filters.join(" & ") };
}

/**
 * How many of the newest messages (below the cursor) the first look reads: enough for a page of a
 * word common in the caller's conversations.
 */
export const POSTGRES_RECENT_WINDOW = 500;

/** The search vector of "Message", as the index has it: the planner uses the index for exactly this expression. */
const VECTOR = `"parley_search_vector"("content", "conversationId", "senderId")`;

export function postgresMessageSearch(pool: pg.Pool): MessageSearch {
  return {
    async search(request) {
      if (request.conversationIds.length === 0) return [];
      const { words, filters } = postgresQuery(request);
      const before = request.beforeId === null ? "" : ` AND "Message"."id" < $4`;
      const values = [words, filters, request.limit, ...(request.beforeId === null ? [] : [request.beforeId.toString()])];
      // GIN gives matches in no order, so there are two ways to a page, and the planner, which
      // cannot tell how the words and the caller's conversations overlap, was seen to pick the
      // wrong one (a rare word in many conversations read the whole table newest first: 2 s at
      // 100,000 messages). So the order is fixed here. First the newest messages, checked one by
      // one: a page when the words are common where the caller is; a bounded cost otherwise.
      const recent = await pool.query<PostgresMessageRow>(
        `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM (SELECT * FROM "Message" WHERE TRUE${before} ORDER BY "Message"."id" DESC LIMIT ${POSTGRES_RECENT_WINDOW}) AS "Message" ` +
          `WHERE ${VECTOR} @@ (to_tsquery('parley_search', $1) && $2::tsquery) AND "deletedAt" IS NULL ORDER BY "Message"."id" DESC LIMIT $3`,
        values,
      );
      if (recent.rows.length === request.limit) return recent.rows.map(fromPostgres);
      // Then the index: every match in the caller's conversations (fewer, as the first look
      // found them sparse there), sorted. "+ 0" keeps the planner off the primary key's order.
      // Not a named statement: planned with the values each time.
      const matched = await pool.query<PostgresMessageRow>(
        `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" ` +
          `WHERE ${VECTOR} @@ (to_tsquery('parley_search', $1) && $2::tsquery) AND "deletedAt" IS NULL${before} ORDER BY "Message"."id" + 0 DESC LIMIT $3`,
        values,
      );
      return matched.rows.map(fromPostgres);
    },
  };
}
