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
  if (priority.skipped) bootLog.warn({ reason: priority.skipped }, "password hashing runs at normal priority");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bootLog.info({ signal }, "signal received");
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        bootLog.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (error) {
  // A configuration mistake is the operator's: its message says what to fix, a stack would not help.
  if (error instanceof ConfigError) bootLog.error({ cause: error.message }, "could not start");
  else bootLog.error({ err: error }, "could not start");
  process.exit(1);
}
