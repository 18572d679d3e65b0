// The knee: the highest send rate at which p99 stays under the limit with nothing lost, duplicated
// or refused. Found by stepping up a ladder of rates, bisecting between the last pass and the first
// failure, then repeating the knee rate to confirm it.
import type { StepResult } from "./load.js";
import { QUIET_OTHER_CPU, type Session } from "./session.js";

export interface KneeSearchOptions {
  ladder: readonly number[];
  /** Bisection steps between the last passing and the first failing rung. */
  bisections: number;
  /** Runs at the knee rate, counting the one that found it; every one must pass. */
  confirmRuns: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  p99LimitMs: number;
  /** The highest rate the target accepts (Parley's per-user send limit times the senders). */
  maxRate?: number;
}

/** Why the search stopped where it did. */
export type KneeBound =
  | "latency-or-loss" // a rate above the knee failed: the knee is measured
  | "rate-limit" // passed at the highest rate the per-user send limit allows: the knee is at least this
  | "generator" // the generator itself ran out of CPU or fell behind its schedule: the knee is at least this
  | "ladder-end" // passed every rung: at least this
  | "none"; // failed the first rung

export interface TaggedStep extends StepResult {
  /** "ladder", "bisect", "confirm", or "retry": run again after failing on latency alone (see MAX_ATTEMPTS). */
  phase: string;
  passed: boolean;
  generatorBound: boolean;
}

export interface KneeResult {
  label: string;
  /** Sends per second; 0 when even the first rung failed. */
  knee: number;
  bound: KneeBound;
  /** The first confirmed run at the knee rate. */
  atKnee: TaggedStep | null;
  steps: TaggedStep[];
}

export function passes(step: StepResult, p99LimitMs: number): boolean {
  return (
    step.latency.count > 0 &&
    step.latency.p99 < p99LimitMs &&
    step.lost === 0 &&
    step.duplicates === 0 &&
    step.disconnects === 0 &&
    Object.keys(step.errors).length === 0 &&
    step.drained
  );
}

/**
 * The generator, not the server, was the limit: it used nearly all of its core, counting the
 * interrupt time its sockets' TCP work takes there.
 */
export function generatorBound(step: StepResult): boolean {
  return step.generatorCpu + step.generatorInterrupts > 0.85;
}

/** Failed on latency alone: nothing lost, duplicated or refused. A stall of a shared machine does this too. */
function latencyOnly(step: StepResult): boolean {
  return step.lost === 0 && step.duplicates === 0 && step.disconnects === 0 && Object.keys(step.errors).length === 0 && step.drained;
}

/** Other processes used a noticeable share of the machine during the step. */
export function disturbed(step: StepResult): boolean {
  return step.otherCpu > QUIET_OTHER_CPU;
}

/** Attempts per rate: a failure on latency alone is run again once, and again while others disturb it. */
const MAX_ATTEMPTS = 3;
/** Passing rates tried, from the highest down (bisected ones included), when confirming the knee. */
const MAX_CONFIRM_CANDIDATES = 6;

export async function findKnee(session: Session, options: KneeSearchOptions, log: (line: string) => void): Promise<KneeResult> {
  const steps: TaggedStep[] = [];
  const runOnce = async (rate: number, phase: string): Promise<TaggedStep> => {
    await session.waitForQuiet();
    const result = await session.step({ rate, warmupMs: options.warmupMs, measureMs: options.measureMs, drainMs: options.drainMs });
    const step: TaggedStep = { ...result, phase, passed: passes(result, options.p99LimitMs), generatorBound: generatorBound(result) };
    steps.push(step);
    log(describeStep(session.label, step));
    if (!result.drained) {
      log(`${session.label}: not drained after ${options.drainMs} ms; restarting it before the next step`);
      await session.restart();
    }
    return step;
  };
  const run = async (rate: number, phase: string): Promise<TaggedStep> => {
    let step = await runOnce(rate, phase);
    for (let attempt = 1; attempt < MAX_ATTEMPTS && !step.passed && latencyOnly(step) && !step.generatorBound; attempt += 1) {
      if (attempt > 1 && !disturbed(step)) break;
      step = await runOnce(rate, "retry");
    }
    return step;
  };

  let lastPass: number | null = null;
  let firstFail: number | null = null;
  let bound: KneeBound = "ladder-end";
  const rungs = [...options.ladder];
  if (options.maxRate !== undefined) {
    const cap = options.maxRate;
    const below = rungs.filter((r) => r < cap);
    rungs.splice(0, rungs.length, ...below, ...(rungs.length > below.length ? [cap] : []));
  }
  for (const rate of rungs) {
    const step = await run(rate, "ladder");
    if (!step.passed) {
      firstFail = rate;
      bound = step.generatorBound ? "generator" : "latency-or-loss";
      break;
    }
    lastPass = rate;
    if (step.generatorBound) {
      bound = "generator";
      break;
    }
    if (options.maxRate !== undefined && rate >= options.maxRate) {
      bound = "rate-limit";
      break;
    }
  }
  if (lastPass === null) return { label: session.label, knee: 0, bound: "none", atKnee: null, steps };

  if (firstFail !== null && bound === "latency-or-loss") {
    let low = lastPass;
    let high = firstFail;
    for (let i = 0; i < options.bisections; i += 1) {
      const mid = roundRate((low + high) / 2);
      if (mid <= low || mid >= high) break;
      const step = await run(mid, "bisect");
      if (step.passed) low = mid;
      else high = mid;
    }
    lastPass = low;
  }

  // Confirm: every run at the knee must pass. When one does not, the knee lies between the next
  // lower passing rate and this one: bisect there (as many times as above) before falling back.
  const candidates = [...new Set(steps.filter((s) => s.passed && s.rate <= lastPass).map((s) => s.rate))].sort((a, b) => b - a);
  let bisectionsLeft = options.bisections;
  for (let tried = 0; candidates.length > 0 && tried < MAX_CONFIRM_CANDIDATES; tried += 1) {
    const candidate = candidates.shift() as number;
    const firstRun = steps.find((s) => s.rate === candidate && s.passed) ?? null;
    let confirmed = true;
    for (let i = 1; i < options.confirmRuns && confirmed; i += 1) confirmed = (await run(candidate, "confirm")).passed;
    if (confirmed) return { label: session.label, knee: candidate, bound, atKnee: firstRun, steps };
    bound = "latency-or-loss";
    const lower = candidates[0];
    if (lower !== undefined && bisectionsLeft > 0) {
      const mid = roundRate((lower + candidate) / 2);
      if (mid > lower && mid < candidate) {
        bisectionsLeft -= 1;
        if ((await run(mid, "bisect")).passed) candidates.unshift(mid);
      }
    }
  }
  return { label: session.label, knee: 0, bound: "none", atKnee: null, steps };
}

/** Two significant figures: rates are chosen, not measured. */
export function roundRate(rate: number): number {
  if (rate < 10) return Math.round(rate * 10) / 10;
  const magnitude = 10 ** (Math.floor(Math.log10(rate)) - 1);
  return Math.round(rate / magnitude) * magnitude;
}

export function describeStep(label: string, step: StepResult & { passed?: boolean; phase?: string }): string {
  const errors = Object.entries(step.errors)
    .map(([code, n]) => `${code}x${n}`)
    .join(",");
  const verdict = step.passed === undefined ? "" : step.passed ? " PASS" : " FAIL";
  return (
    `${label}${step.phase ? ` [${step.phase}]` : ""}: ${step.rate} sends/s -> ${Math.round(step.deliveredPerSecond)} deliveries/s, ` +
    `p50 ${step.latency.p50.toFixed(1)} p99 ${step.latency.p99.toFixed(1)} max ${step.latency.max.toFixed(0)} ms, ` +
    `lost ${step.lost}, dup ${step.duplicates}${errors ? `, errors ${errors}` : ""}, server CPU ${(step.serverCpu * 100).toFixed(0)}%, ` +
    `RSS ${(step.serverRssBytes / 2 ** 20).toFixed(0)} MB, generator CPU ${(step.generatorCpu * 100).toFixed(0)}% + interrupts ${(step.generatorInterrupts * 100).toFixed(0)}% (GC ${step.generatorGcMs.toFixed(0)} ms, ` +
    `send lag p99 ${step.sendLagP99.toFixed(1)} ms), ${step.servicesCpu >= 0.01 ? `PostgreSQL/Redis ${(step.servicesCpu * 100).toFixed(0)}%, ` : ""}` +
    `other processes ${(step.otherCpu * 100).toFixed(0)}%${verdict}`
  );
}
