// Event log retention: events older than the configured days are removed once an hour (and once
// shortly after start). What is removed raises the log's floor, below which sync.events refuses to
// resume (PRECONDITION_FAILED) rather than skip events silently. Messages themselves are kept.
import type { Database } from "@parley/db";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { startPeriodic } from "../periodic.js";

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const FIRST_PRUNE_AFTER_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export function startRetention(db: Database, days: number, clock: Clock, log: Logger): { stop(): void; pruneNow(): Promise<bigint> } {
  const pruneNow = () => db.events.prune(new Date(clock.now().getTime() - days * DAY_MS));
  const run = () => {
    pruneNow().catch((error: unknown) => log.warn({ err: error }, "event log retention failed"));
  };
  return {
    ...startPeriodic(run, { firstAfterMs: FIRST_PRUNE_AFTER_MS, everyMs: PRUNE_EVERY_MS }),
    pruneNow,
  };
}
