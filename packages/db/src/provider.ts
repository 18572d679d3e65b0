export type Provider = "sqlite" | "postgresql";

/** The provider a DATABASE_URL names: `file:` is SQLite, `postgres://` or `postgresql://` is PostgreSQL. */
export function providerOf(url: string): Provider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error("DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL)");
}

/** The file path of a `file:` URL, as better-sqlite3 wants it. */
export function sqlitePath(url: string): string {
  const path = url.slice("file:".length).split("?")[0] ?? "";
  if (path === "") throw new Error("DATABASE_URL file: needs a path");
  return path;
}
