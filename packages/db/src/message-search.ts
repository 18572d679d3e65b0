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
      // returns are read from Message. The CJK matches are a set it checks each row against
      // ("+" keeps them from MessageSearch's own lookup: offered as a rowid list, they made
      // SQLite run the whole MATCH once per CJK match, 20 s with 1,000,000 messages).
      const ids =
        `SELECT "rowid" FROM "MessageSearch" WHERE "MessageSearch" MATCH @words` +
        (before ? ` AND "rowid" < @before` : "") +
        (substrings ? ` AND +"rowid" IN (SELECT "rowid" FROM "MessageSearchCjk" WHERE "MessageSearchCjk" MATCH @substrings)` : "") +
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
 * The request as tsquery texts: `words`, for to_tsquery with the index's configuration (which
 * folds case and accents as it did for the messages); `loose`, the same with each phrase's words
 * merely all present, which a GIN index answers without reading the rows again (positions are not
 * in it); and `filters`, the conversation and sender lexemes, taken as they are.
 */
export function postgresQuery(request: SearchRequest): { words: string; loose: string; filters: string } {
  const words = request.phrases.map((phrase) => `(${phrase.map(tsWord).join(" <-> ")})`);
  const loose = request.phrases.map((phrase) => `(${phrase.flatMap((w) => (isCjkWord(w) ? [...w] : [w])).map(tsLexeme).join(" & ")})`);
  if (request.prefix !== null) {
    const last = isCjkWord(request.prefix) ? `(${tsWord(request.prefix)})` : `${tsLexeme(request.prefix)}:*`;
    words.push(last);
    loose.push(isCjkWord(request.prefix) ? `(${[...request.prefix].map(tsLexeme).join(" & ")})` : last);
  }
  const filters = [`(${request.conversationIds.map((id) => tsLexeme(`c:${id}`)).join(" | ")})`];
  if (request.senderId !== null) filters.push(tsLexeme(`u:${request.senderId}`));
  return { words: words.join(" & "), loose: loose.join(" & "), filters: filters.join(" & ") };
}

/**
 * How many of the newest messages of the caller's conversations (below the cursor) the first look
 * reads: enough for a page of a word common where the caller is.
 */
export const POSTGRES_RECENT_WINDOW = 500;

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

export function postgresMessageSearch(pool: pg.Pool): MessageSearch {
  return {
    async search(request) {
      if (request.conversationIds.length === 0) return [];
      const { words, loose, filters } = postgresQuery(request);
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
      const parts = (param: (value: unknown, type: string) => string, check: boolean) => {
        const query = `(to_tsquery('parley_search', ${param(words, "text")}) && ${param(filters, "tsquery")})`;
        // Checking a row computes its vector again (tens of microseconds: two regular expressions
        // and the parser), so a cheap condition comes first: the sender, and in a row of ASCII
        // text the words themselves, matched by a regular expression that is exact there.
        const cheap = [
          ...(!check || request.senderId === null ? [] : [`"senderId" = ${param(request.senderId, "text")}`]),
          ...(!check || patterns === null || patterns.length === 0 ? [] : [`("content" !~ '^[\\x01-\\x7f]*$' OR "content" ~* ALL (${param(patterns, "text[]")}))`]),
        ];
        return {
          query,
          checked: cheap.length === 0 ? `${VECTOR} @@ ${query}` : `CASE WHEN ${cheap.join(" AND ")} THEN ${VECTOR} @@ ${query} ELSE FALSE END`,
          limit: param(request.limit, "int"),
          before: request.beforeId === null ? "" : ` AND "Message"."id" < ${param(request.beforeId.toString(), "bigint")}`,
        };
      };
      // GIN gives matches in no order, so there are two ways to a page, and the planner, which
      // cannot tell how the words and the caller's conversations overlap, was seen to pick the
      // wrong one (a rare word in many conversations read the whole table newest first: 2 s at
      // 100,000 messages). So the order is fixed here. First the newest messages of the caller's
      // conversations (each one's newest ids from the (conversationId, id) index, merged), checked
      // one by one, newest first, until the page is full: a page when the words are common where
      // the caller is, a bounded cost otherwise. (The newest messages of the whole table hold few
      // of a caller's when there are many conversations: at 1,000, a common word missed the page
      // there and then sorted every match of the caller's, 300 ms and more.)
      const recent = await statement((param) => {
        const { checked, limit, before } = parts(param, true);
        return (
          `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM (` +
          `SELECT c."id" AS "newestId" FROM unnest(${param(request.conversationIds, "text[]")}) AS "conversation"("id") CROSS JOIN LATERAL ` +
          `(SELECT "id" FROM "Message" WHERE "conversationId" = "conversation"."id"${before} ORDER BY "id" DESC LIMIT ${POSTGRES_RECENT_WINDOW}) AS c ` +
          `ORDER BY c."id" DESC LIMIT ${POSTGRES_RECENT_WINDOW}) AS "newest" ` +
          `CROSS JOIN LATERAL (SELECT * FROM "Message" WHERE "Message"."id" = "newest"."newestId") AS "Message" ` +
          `WHERE "deletedAt" IS NULL AND ${checked} ORDER BY "newest"."newestId" DESC LIMIT ${limit}`
        );
      });
      if (recent.rows.length === request.limit) return recent.rows.map(fromPostgres);
      // Then the index: every match in the caller's conversations (fewer, as the first look
      // found them sparse there), sorted. "+ 0" keeps the planner off the primary key's order.
      // A phrase is asked of the index as its words (so it need not read the rows again), then
      // checked on the rows it gives. Not a named statement: planned with the values each time.
      const matched = await statement((param) => {
        const exact = loose === words;
        const { query, checked, limit, before } = parts(param, !exact);
        const indexed = exact ? query : `(to_tsquery('parley_search', ${param(loose, "text")}) && ${param(filters, "tsquery")})`;
        return (
          `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE ${VECTOR} @@ ${indexed} AND "deletedAt" IS NULL${before}${exact ? "" : ` AND ${checked}`} ` +
          `ORDER BY "Message"."id" + 0 DESC LIMIT ${limit}`
        );
      });
      return matched.rows.map(fromPostgres);
    },
  };
}
