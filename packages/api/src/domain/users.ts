import type { Services } from "../context.js";
import type { UserDto } from "../schemas.js";
import { columnsOf, publicUserSelect, type PublicUserRow } from "./selects.js";
import { placeholders } from "./sql.js";

/** One page of users by username; `cursor` is the last username of the previous page. */
export function listUsers(services: Services, input: { cursor?: string | null | undefined; limit: number }): Promise<UserDto[]> {
  return services.db.prisma.user.findMany({
    where: input.cursor ? { username: { gt: input.cursor } } : {},
    select: publicUserSelect,
    orderBy: { username: "asc" },
    take: input.limit,
  });
}

/** `%`, `_` and the escape character itself match literally. */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Users whose username or full name starts with `query`, ignoring case, by username. (SQLite's
 * LIKE folds ASCII letters only; PostgreSQL's ILIKE folds every letter.)
 */
export function searchUsers(services: Services, input: { query: string; limit: number }): Promise<UserDto[]> {
  const { db } = services;
  const [usernameParam, fullNameParam, limitParam] = placeholders(db.provider, 3, 1).split(", ");
  const like = db.provider === "postgresql" ? "ILIKE" : "LIKE";
  const pattern = likePrefix(input.query);
  return db.prisma.$queryRawUnsafe<PublicUserRow[]>(
    `SELECT ${columnsOf(publicUserSelect)} FROM "User"
     WHERE "username" ${like} ${usernameParam} ESCAPE '\\' OR "fullName" ${like} ${fullNameParam} ESCAPE '\\'
     ORDER BY "username" LIMIT ${limitParam}`,
    pattern.toLowerCase(),
    pattern,
    input.limit,
  );
}
