// Fails when the committed migrations do not produce prisma/<provider>/schema.prisma.
//   tsx scripts/check-migrations.ts
// PostgreSQL is checked on a temporary database of the server named by CHECK_POSTGRES_URL or
// TEST_DATABASE_URL, and skipped (with a notice) when neither is set.
import { pendingChanges, postgresServerUrl, providers, schemaPath } from "./migration-state.js";

let failed = false;
for (const provider of providers) {
  if (provider === "postgresql" && !postgresServerUrl()) {
    console.warn("postgresql: skipped - set CHECK_POSTGRES_URL or TEST_DATABASE_URL to a server to check it on");
    continue;
  }
  try {
    const missing = await pendingChanges(provider, schemaPath(provider));
    if (missing === "") {
      console.log(`${provider}: the migrations produce prisma/${provider}/schema.prisma`);
    } else {
      failed = true;
      console.error(
        `${provider}: the migrations do not produce prisma/${provider}/schema.prisma; still missing:\n${missing}\n` +
          "Write a migration with: pnpm --filter @parley/db migration:new <name>",
      );
    }
  } catch (error) {
    failed = true;
    console.error(`${provider}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
