// Prisma CLI configuration for PostgreSQL used by scripts/migration-state.ts (`db pull` and
// `migrate diff`, which connects even when it diffs two schema files).
//
// @prisma/adapter-pg 6.19.3 refuses result columns of PostgreSQL's internal `name` and `"char"`
// types ("Column type 'name' could not be deserialized"), and the schema engine's catalog queries
// return both. pg already hands their values over as strings, so reporting them as text is exact.
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

type Query = (config: pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  // Without a schema here the CLI goes looking for the native query engine (a download), even
  // though every command passes --schema or two schema files.
  schema: "../prisma/postgresql/schema.prisma",
  adapter: async () => {
    // allowExitOnIdle: the CLI never closes the adapter, and an open pool would keep it alive 10 s.
    const pool = new pg.Pool({ connectionString: process.env.PRISMA_CLI_POSTGRES_URL, allowExitOnIdle: true });
    const query = pool.query.bind(pool) as Query;
    const reportCatalogTypesAsText: Query = async (config, values) => {
      const result = await query(config, values);
      for (const field of result.fields ?? []) {
        if (field.dataTypeID === NAME_OID || field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
      }
      return result;
    };
    pool.query = reportCatalogTypesAsText as typeof pool.query;
    return new PrismaPg(pool);
  },
});
