import type { Database, Provider } from "@parley/db";
import type { Services } from "../context.js";
import type { UserDto } from "../schemas.js";
import { columnsOf, publicUserSelect, toUserDto, type PublicUserRow } from "./selects.js";

/** One page of users by username; `cursor` is the last username of the previous page. */
export async function listUsers(services: Services, input: { cursor?: string | null | undefined; limit: number }): Promise<UserDto[]> {
  const rows = await services.db.prisma.user.findMany({
    where: input.cursor ? { username: { gt: input.cursor } } : {},
    select: publicUserSelect,
    orderBy: { username: "asc" },
    take: input.limit,
  });
  return rows.map(toUserDto);
}

/** `%`, `_` and the escape character itself match literally. */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The highest code point: `[prefix, prefix + PREFIX_END)` in code point order is every username
 * starting with `prefix` (none holds this character), a range the unique index answers without
 * reading the rest. Usernames are stored in lower case, so the query is lowered to match.
 */
const PREFIX_END = "\u{10FFFF}";

/**
 * The spellings of a query SQLite's LIKE needs to find a full name whatever its case: LIKE folds
 * ASCII letters only, so "émile ölund" finds "Émile Ölund" through the spelling with each word
 * capitalised. (PostgreSQL's ILIKE folds every letter.)
 */
function caseSpellings(query: string): string[] {
  const lower = query.toLowerCase();
  const titled = lower.replace(/(^|[\s-])(\p{L})/gu, (_, before: string, letter: string) => before + letter.toUpperCase());
  // A spelling whose letters lower to other letters is another query: "ı" upper-cases to "I", which
  // LIKE would take for "i". Only spellings that are the same text ignoring case are kept.
  return [...new Set([query, lower, query.toUpperCase(), titled])].filter((spelling) => spelling.toLowerCase() === lower);
}

/**
 * Whether text comparisons in this database follow code points, as the username range needs.
 * SQLite's BINARY collation does; on PostgreSQL the C and POSIX collations do (C.UTF-8 included),
 * but a language collation may set punctuation aside (glibc's en_US, ICU's "ka-shifted") and then
 * "annabel" sorts between "ann-" and "ann-\u{10FFFF}". Asked once per database.
 */
const codePointOrder = new WeakMap<Database, Promise<boolean>>();
export function sortsByCodePoint(db: Database): Promise<boolean> {
  if (db.provider === "sqlite") return Promise.resolve(true);
  let known = codePointOrder.get(db);
  if (!known) {
    // datlocprovider exists from PostgreSQL 15 on ("i" is ICU, whose root order is not code points).
    known = db.prisma
      .$queryRawUnsafe<{ byCodePoint: boolean }[]>(
        `SELECT (d."datcollate" IN ('C', 'POSIX') OR d."datcollate" LIKE 'C.%')
                AND COALESCE(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c' AS "byCodePoint"
         FROM "pg_database" d WHERE d."datname" = current_database()`,
      )
      .then((rows) => rows[0]?.byCodePoint === true);
    known.catch(() => codePointOrder.delete(db));
    codePointOrder.set(db, known);
  }
  return known;
}

/** The statement `searchUsers` runs, with its parameters; exported for the test of its query plan. */
export function userSearchStatement(
  provider: Provider,
  byCodePoint: boolean,
  input: { query: string; limit: number },
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return provider === "postgresql" ? `$${params.length}` : "?";
  };
  const columns = columnsOf(publicUserSelect);
  const username = input.query.toLowerCase();
  // Compared and ordered by code point everywhere: on the unique index where the collation does
  // that anyway, else (a language collation) by naming the C collation, exact but without the index.
  const column = byCodePoint ? `"username"` : `"username" COLLATE "C"`;
  const byUsername = `SELECT ${columns} FROM "User" WHERE ${column} >= ${param(username)} AND ${column} < ${param(username + PREFIX_END)}
     ORDER BY ${column} LIMIT ${param(input.limit)}`;
  // No index serves a case-insensitive prefix of a full name: this arm reads every user (cheap rows,
  // bounded by the number of people; an expression index on lower("fullName") would change that).
  const fullName =
    provider === "postgresql"
      ? `"fullName" ILIKE ${param(likePrefix(input.query))} ESCAPE '\\'`
      : caseSpellings(input.query)
          .map((spelling) => `"fullName" LIKE ${param(likePrefix(spelling))} ESCAPE '\\'`)
          .join(" OR ");
  const byFullName = `SELECT ${columns} FROM "User" WHERE ${fullName} ORDER BY ${column} LIMIT ${param(input.limit)}`;
  // Each arm is bounded by the limit, so their union holds the first `limit` users of the whole
  // answer; the exact username comes first, being what someone typing a whole name is after.
  const sql = `SELECT ${columns} FROM (SELECT * FROM (${byUsername}) AS u UNION SELECT * FROM (${byFullName}) AS f) AS found
     ORDER BY CASE WHEN "username" = ${param(username)} THEN 0 ELSE 1 END, ${column} LIMIT ${param(input.limit)}`;
  return { sql, params };
}

/**
 * Users whose username or full name starts with `query`, ignoring case: a user whose username is
 * the query first, then by username.
 */
export async function searchUsers(db: Database, input: { query: string; limit: number }): Promise<UserDto[]> {
  const { sql, params } = userSearchStatement(db.provider, await sortsByCodePoint(db), input);
  return (await db.prisma.$queryRawUnsafe<PublicUserRow[]>(sql, ...params)).map(toUserDto);
}
