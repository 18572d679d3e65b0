import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/client.js";
import { migrate, readMigrations } from "../src/migrate.js";
import { insertMessagesConcurrently } from "./support.js";

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) console.warn("TEST_DATABASE_URL is not set: PostgreSQL tests skipped");

const committed = readMigrations("postgresql").map((m) => m.name);

describe.skipIf(!serverUrl)("PostgreSQL", () => {
  const name = `parley_db_test_${randomBytes(6).toString("hex")}`;
  let admin: pg.Client;
  let url: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const databaseUrl = new URL(serverUrl ?? "");
    databaseUrl.pathname = `/${name}`;
    url = databaseUrl.toString();
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it("applies each migration once when two migrators start together on a new database", async () => {
    const results = await Promise.all([migrate(url), migrate(url)]);

    expect(results.flatMap((r) => r.applied).sort()).toEqual(committed);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string }>(
        `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name`,
      );
      expect(rows.map((r) => r.migration_name)).toEqual(committed);
    } finally {
      await client.end();
    }
  });

  it("completes 50 concurrent message inserts through openDatabase", async () => {
    await migrate(url);
    const db = await openDatabase(url);
    try {
      const ids = await insertMessagesConcurrently(db.prisma, 50);

      expect(new Set(ids).size).toBe(50);
      expect(await db.prisma.message.count()).toBe(50);
    } finally {
      await db.close();
    }
  });
});
