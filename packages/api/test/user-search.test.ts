// user.search's statement against real databases: the username half runs on the unique index, and
// a collation that does not follow code points still gets exact answers. (What it finds is tested
// through the procedure in users-and-messages.test.ts and, on both providers, apps/server's users.test.ts.)
import { randomBytes } from "node:crypto";
import { migrate, openDatabase, type Database } from "@parley/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchUsers, sortsByCodePoint, userSearchStatement } from "../src/domain/users.js";
import { openTestDatabase, type TestDatabase } from "./helpers.js";

const serverUrl = process.env.TEST_DATABASE_URL;
const skipReason = serverUrl ? "" : " (skipped: TEST_DATABASE_URL is not set)";

/** Enough users that a planner prefers the index to reading the table. */
async function seedUsers(db: Database, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => ({ username: `user${String(i).padStart(5, "0")}`, fullName: `Person ${i}`, passwordHash: "-" }));
  for (let i = 0; i < rows.length; i += 500) await db.prisma.user.createMany({ data: rows.slice(i, i + 500) });
}

async function planOf(db: Database, query: string): Promise<string> {
  const { sql, params } = userSearchStatement(db.provider, await sortsByCodePoint(db), { query, limit: 20 });
  const explain = db.provider === "sqlite" ? "EXPLAIN QUERY PLAN " : "EXPLAIN ";
  const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(explain + sql, ...params);
  return rows.map((row) => String(row.detail ?? row["QUERY PLAN"])).join("\n");
}

describe("user.search's statement [sqlite]", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase();
    await seedUsers(database.db, 2_000);
  });
  afterAll(() => database.dispose());

  it("finds usernames by a range on the unique index", async () => {
    expect(await planOf(database.db, "user01")).toMatch(/SEARCH .*USING INDEX User_username_key \(username>\? AND username<\?\)/);
  });
});

describe.skipIf(!serverUrl)(`user.search's statement [postgresql]${skipReason}`, () => {
  const created: string[] = [];
  const opened: Database[] = [];
  let admin: Database;

  /** A migrated database of its own, with the collation given (CREATE DATABASE's locale options). */
  async function databaseWith(locale: string): Promise<Database> {
    const name = `parley_api_test_${randomBytes(6).toString("hex")}`;
    await admin.prisma.$executeRawUnsafe(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' ${locale}`);
    created.push(name);
    const url = new URL(serverUrl ?? "");
    url.pathname = `/${name}`;
    await migrate(url.toString());
    const db = await openDatabase(url.toString(), { poolSize: 2 });
    opened.push(db);
    return db;
  }

  beforeAll(async () => {
    admin = await openDatabase(serverUrl ?? "", { poolSize: 1 });
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    for (const name of created) await admin.prisma.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.close();
  });

  it("finds usernames by a range on the unique index when the database sorts by code point", async () => {
    const db = await databaseWith("LC_COLLATE 'C' LC_CTYPE 'C'");
    await seedUsers(db, 2_000);
    await db.prisma.$executeRawUnsafe(`ANALYZE "User"`);
    expect(await sortsByCodePoint(db)).toBe(true);
    expect(await planOf(db, "user01")).toMatch(/Index Cond: \(\(username >= .*\) AND \(username < .*\)\)/);
  });

  it("answers exactly in a collation that sets punctuation aside", async () => {
    const db = await databaseWith("LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C'");
    for (const username of ["ann-lee", "annabel", "anne"]) {
      await db.prisma.user.create({ data: { username, fullName: username.toUpperCase(), passwordHash: "-" } });
    }
    expect(await sortsByCodePoint(db)).toBe(false);
    // In this collation "annabel" sorts between "ann-" and "ann-\u{10FFFF}": a plain range would find it.
    expect((await searchUsers(db, { query: "ann-", limit: 20 })).map((u) => u.username)).toEqual(["ann-lee"]);
    expect((await searchUsers(db, { query: "Ann", limit: 20 })).map((u) => u.username)).toEqual(["ann-lee", "annabel", "anne"]);
  });
});
