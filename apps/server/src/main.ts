// `pnpm start` / `node dist/main.js`: the production entry point. Signal handlers live here only.
import { ConfigError } from "./config.js";
import { createLogger } from "./log.js";
import { startServer } from "./server.js";
import { lowerHelperThreadPriority } from "./thread-priority.js";

const bootLog = createLogger("info");

try {
  // Deliveries before password hashes (see thread-priority.ts).
  const priority = await lowerHelperThreadPriority();
  const server = await startServer();
  if (priority.skipped) bootLog.warn("password hashing runs at normal priority", { reason: priority.skipped });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bootLog.info("signal received", { signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        bootLog.error("shutdown failed", { cause: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (error) {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  bootLog.error("could not start", { cause: message });
  process.exit(1);
}
