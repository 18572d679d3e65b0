// Prisma CLI configuration for the PostgreSQL schema (generate and migrate diff work offline;
// migrations are applied by src/migrate.ts, see ARCHITECTURE.md).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/postgresql/schema.prisma",
  migrations: { path: "prisma/postgresql/migrations" },
  adapter: async () =>
    new PrismaPg({ connectionString: process.env.PRISMA_CLI_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" }),
});
