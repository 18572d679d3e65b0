// The periodic sweep of files (FileService.sweep), scheduled like the event log's retention: once
// shortly after start, then every interval. Each instance runs its own; they may overlap safely.
import type { Logger } from "../logger.js";
import { startPeriodic, type Periodic } from "../periodic.js";
import type { FileService } from "./file-service.js";

const FIRST_SWEEP_AFTER_MS = 60 * 1000;

export function startFileSweep(files: FileService, intervalSeconds: number, log: Logger): Periodic {
  const run = () => {
    files.sweep().then(
      (removed) => {
        if (removed.uploads > 0 || removed.files > 0) log.info(removed, "file sweep removed unattached uploads and orphan files");
      },
      (error: unknown) => log.warn({ err: error }, "file sweep failed"),
    );
  };
  const everyMs = intervalSeconds * 1000;
  return startPeriodic(run, { firstAfterMs: Math.min(FIRST_SWEEP_AFTER_MS, everyMs), everyMs });
}
