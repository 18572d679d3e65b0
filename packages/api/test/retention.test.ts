// Event log retention (live/retention.ts): which events a prune removes, judged by the service's
// clock, and when it runs - a minute after start, then every hour, until stop(). Timers are vitest's
// fake ones; the events are real rows of a SQLite test database, stored directly with their times.
import type { Database } from "@parley/db";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Logger } from "../src/logger.js";
import { startRetention } from "../src/live/retention.js";
import { fakeClock, suiteDatabase } from "./helpers.js";

const DAY_S = 24 * 60 * 60;
const DAYS = 8;

const suite = suiteDatabase();

/** A logger that keeps its warnings. */
function warningLogger(): Logger & { warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  const ignore = () => undefined;
  const logger = { debug: ignore, info: ignore, error: ignore, warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }), child: () => logger, warnings };
  return logger;
}

describe("event log retention", () => {
  let nextId = 1n;
  const clock = fakeClock();
  let db: Database;

  beforeEach(async () => {
    db = suite.database.db;
    await db.prisma.event.deleteMany();
    await db.prisma.eventLogFloor.deleteMany();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  /** An event stored `ageSeconds` before the clock's time; its id. */
  async function eventAged(ageSeconds: number): Promise<bigint> {
    const id = nextId++;
    await db.prisma.event.create({ data: { id, kind: "message.created", conversationId: "c1", messageId: id, createdAt: new Date(clock.now().getTime() - ageSeconds * 1000) } });
    return id;
  }

  const remaining = async () => (await db.prisma.event.findMany({ orderBy: { id: "asc" }, select: { id: true } })).map((row) => row.id);

  it("removes the events older than the configured days, by the clock, and keeps the newer ones", async () => {
    const [, , newer, newest] = [await eventAged(9 * DAY_S), await eventAged(DAYS * DAY_S + 1), await eventAged(DAYS * DAY_S - 1), await eventAged(0)];
    const retention = startRetention(db, DAYS, clock, warningLogger());
    await retention.pruneNow();
    retention.stop();
    expect(await remaining()).toEqual([newer, newest]);
  });

  it("prunes a minute after start, then every hour, until stopped", async () => {
    const prune = vi.spyOn(db.events, "prune");
    const [, newer, newest] = [await eventAged(9 * DAY_S), await eventAged(7 * DAY_S), await eventAged(0)];
    const retention = startRetention(db, DAYS, clock, warningLogger());
    vi.advanceTimersByTime(60_000 - 1);
    expect(prune).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(prune).toHaveBeenCalledTimes(1);
    await prune.mock.results[0]?.value;
    expect(await remaining()).toEqual([newer, newest]);

    // Two days on, the event 7 days old is 9 days old at the hourly prune.
    clock.advanceSeconds(2 * DAY_S);
    vi.advanceTimersByTime(60 * 60_000 - 60_000 - 1);
    expect(prune).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(prune).toHaveBeenCalledTimes(2);
    await prune.mock.results[1]?.value;
    expect(await remaining()).toEqual([newest]);

    retention.stop();
    vi.advanceTimersByTime(3 * 60 * 60_000);
    expect(prune).toHaveBeenCalledTimes(2);
  });

  it("logs a failed prune as a warning with the error, and tries again at the next hour", async () => {
    const failure = new Error("database is locked");
    const prune = vi.spyOn(db.events, "prune").mockRejectedValueOnce(failure);
    const log = warningLogger();
    const retention = startRetention(db, DAYS, clock, log);
    vi.advanceTimersByTime(60_000);
    await Promise.allSettled(prune.mock.results.map((result) => result.value as Promise<bigint>));
    expect(log.warnings).toEqual([{ fields: { err: failure }, msg: "event log retention failed" }]);
    vi.advanceTimersByTime(60 * 60_000);
    expect(prune).toHaveBeenCalledTimes(2);
    await prune.mock.results[1]?.value;
    retention.stop();
    expect(log.warnings).toHaveLength(1);
  });
});
