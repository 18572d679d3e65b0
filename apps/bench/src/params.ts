// The two sizes of the benchmark: `quick` (pnpm bench, about three minutes, SQLite only) and `full`
// (every scenario of issue 6 at full size, also on PostgreSQL and on two instances with Redis).
import { roundRate } from "./knee.js";

export interface StepTiming {
  warmupMs: number;
  measureMs: number;
  drainMs: number;
}

export interface Params {
  mode: "quick" | "full";
  step: StepTiming;
  p99LimitMs: number;
  /** Scenario 1: rooms of `roomSize`, `senders` of the clients sending. */
  knee: { clients: number; roomSize: number; senders: number; ladder: number[]; bisections: number; confirmRuns: number };
  /** Scenario 2. */
  idle: { connections: number; settleMs: number };
  /** Scenario 3: one room; rates are sends per second into it. */
  fanout: { members: number; senders: number; ladder: number[]; bisections: number; confirmRuns: number };
  /** Scenario 4. */
  history: { messages: number; calls: number; seedBatch: number };
  /** Scenario 5: logins fired at once `atMs` into a `measureMs` window at half the knee. */
  logins: { count: number; atMs: number; measureMs: number };
  /**
   * Scenarios 6-8 (at half of scenario 1's knee): typing.set per client every `typingEveryMs`
   * (above the 2 s throttle: every call is passed on), `churnPerSecond` connects (and as many
   * disconnects, each `churnHoldMs` later).
   */
  live: { typingEveryMs: number; churnPerSecond: number; churnHoldMs: number };
  /** Also run scenarios 1, 3 and 4 on PostgreSQL, and 1 on two instances with Redis. */
  postgres: boolean;
  redis: boolean;
  profile: boolean;
}

/** from, from*factor, ... up to `to`, each rounded to two significant figures. */
function ladder(from: number, factor: number, to: number): number[] {
  const rungs: number[] = [];
  for (let rate = from; rate <= to; rate *= factor) rungs.push(roundRate(rate));
  return rungs;
}

export const quickParams: Params = {
  mode: "quick",
  step: { warmupMs: 1_000, measureMs: 3_000, drainMs: 8_000 },
  p99LimitMs: 50,
  knee: { clients: 300, roomSize: 10, senders: 30, ladder: ladder(300, 1.6, 22_000), bisections: 0, confirmRuns: 1 },
  idle: { connections: 300, settleMs: 2_000 },
  fanout: { members: 200, senders: 20, ladder: ladder(2, 4, 1_000), bisections: 0, confirmRuns: 1 },
  history: { messages: 100_000, calls: 300, seedBatch: 50_000 },
  logins: { count: 20, atMs: 3_000, measureMs: 8_000 },
  live: { typingEveryMs: 2_500, churnPerSecond: 100, churnHoldMs: 1_000 },
  postgres: false,
  redis: false,
  profile: false,
};

export const fullParams: Params = {
  mode: "full",
  step: { warmupMs: 2_000, measureMs: 8_000, drainMs: 20_000 },
  p99LimitMs: 50,
  knee: { clients: 1_000, roomSize: 10, senders: 100, ladder: ladder(50, 1.5, 20_000), bisections: 2, confirmRuns: 3 },
  idle: { connections: 5_000, settleMs: 5_000 },
  fanout: { members: 500, senders: 50, ladder: ladder(1, 1.5, 400), bisections: 2, confirmRuns: 3 },
  history: { messages: 1_000_000, calls: 1_000, seedBatch: 100_000 },
  logins: { count: 50, atMs: 8_000, measureMs: 20_000 },
  live: { typingEveryMs: 2_500, churnPerSecond: 100, churnHoldMs: 1_000 },
  postgres: true,
  redis: true,
  profile: true,
};
