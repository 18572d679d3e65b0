// The knee search against a scripted target: which rates it tries and what it reports.
import { describe, expect, it } from "vitest";
import { findKnee, type KneeSearchOptions } from "../src/knee.js";
import type { StepResult } from "../src/load.js";
import type { Session } from "../src/session.js";

/** A target whose p99 at each rate is given by `p99(rate, attempt)`; records the rates it was run at. */
function scripted(p99: (rate: number, attempt: number) => number): { session: Session; rates: number[] } {
  const rates: number[] = [];
  const attempts = new Map<number, number>();
  const session = {
    label: "scripted",
    waitForQuiet: async () => undefined,
    restart: async () => undefined,
    step: async ({ rate }: { rate: number }): Promise<StepResult> => {
      rates.push(rate);
      const attempt = (attempts.get(rate) ?? 0) + 1;
      attempts.set(rate, attempt);
      const latency = { count: 100, p50: 1, p95: 2, p99: p99(rate, attempt), max: 100 };
      return {
        rate,
        measureMs: 1_000,
        window: { start: 0, end: 1_000 },
        sendsPerSecond: rate,
        deliveredPerSecond: rate * 10,
        latency,
        ackLatency: latency,
        sent: rate,
        acked: rate,
        errors: {},
        expected: rate * 10,
        received: rate * 10,
        lost: 0,
        duplicates: 0,
        late: 0,
        disconnects: 0,
        drained: true,
        serverCpu: 0.5,
        serverRssBytes: 0,
        serverPeakRssBytes: 0,
        generatorCpu: 0.3,
        generatorInterrupts: 0,
        serverInterrupts: 0,
        sendLagP99: 1,
        generatorGcMs: 0,
        servicesCpu: 0,
        otherCpu: 0,
      };
    },
  } as unknown as Session;
  return { session, rates };
}

const options: KneeSearchOptions = { ladder: [1000, 2000, 2900, 4300], bisections: 2, confirmRuns: 3, warmupMs: 0, measureMs: 0, drainMs: 0, p99LimitMs: 50 };
const quiet = () => undefined;

describe("findKnee", () => {
  it("bisects between the last passing and the first failing rung, then confirms the knee", async () => {
    const { session, rates } = scripted((rate) => (rate <= 3300 ? 30 : 80));
    const result = await findKnee(session, options, quiet);
    expect(result.knee).toBe(3300);
    expect(result.bound).toBe("latency-or-loss");
    // 4300 fails (and is retried once), 3600 fails (retried), 3300 passes and is confirmed twice more.
    expect(rates).toEqual([1000, 2000, 2900, 4300, 4300, 3600, 3600, 3300, 3300, 3300]);
  });

  it("when the knee fails its confirmation, bisects below it instead of falling back a whole rung", async () => {
    // 2900 passes once, then fails; 2500 passes every time.
    const { session, rates } = scripted((rate, attempt) => (rate <= 2500 || (rate === 2900 && attempt === 1) ? 30 : 80));
    const result = await findKnee(session, { ...options, bisections: 1 }, quiet);
    expect(result.knee).toBe(2500);
    expect(rates.slice(-4)).toEqual([2900, 2500, 2500, 2500]);
  });

  it("reports the generator as the bound when it ran out of CPU before the target failed", async () => {
    const { session } = scripted(() => 10);
    const generatorLimited = session.step.bind(session);
    session.step = async (step) => ({ ...(await generatorLimited(step)), generatorCpu: step.rate >= 2900 ? 0.95 : 0.3 });
    const result = await findKnee(session, options, quiet);
    expect(result).toMatchObject({ knee: 2900, bound: "generator" });
  });

  it("counts the interrupt time on the generator's core as the generator's", async () => {
    const { session } = scripted(() => 10);
    const step = session.step.bind(session);
    // 65% in the process and 25% in interrupts on its core: the core was full.
    session.step = async (options) => ({ ...(await step(options)), ...(options.rate >= 2000 ? { generatorCpu: 0.65, generatorInterrupts: 0.25 } : {}) });
    const result = await findKnee(session, options, quiet);
    expect(result).toMatchObject({ knee: 2000, bound: "generator" });
  });
});
