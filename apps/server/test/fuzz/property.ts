// What a fuzz property is, how its inputs are run and judged (every answer inspected, the server's
// health and the database's row counts checked after each input), and the helpers the HTTP and
// WebSocket properties share.
import fc from "fast-check";
import { generatorOf, LONE_SURROGATES, PROCEDURES } from "./arbitraries.js";
import { inspect, type Finding, type HttpAnswer } from "./transport.js";
import { diffCounts, type FuzzWorld, type TokenChoice } from "./world.js";

export interface RunOptions {
  numRuns: number;
  seed?: number | undefined;
  /** Give up (and fail) after this long, shrinking included: a failing network property can shrink for a while. */
  timeLimitMs?: number | undefined;
}

/** Sees the findings of each input; throwing makes fast-check shrink the input and report it. */
export type Judge = (findings: Finding[], input: string) => void;

export interface FuzzProperty {
  name: string;
  /** Share of the total number of runs. */
  weight: number;
  /** At most this many runs whatever the total (each run of it costs argon2 work). */
  maxRuns?: number;
  /** Stores rows on purpose and checks its own counts. */
  writes?: boolean;
  check(world: FuzzWorld, options: RunOptions, judge: Judge): Promise<void>;
}

export interface Spec<T> {
  name: string;
  weight: number;
  maxRuns?: number;
  writes?: boolean;
  /** Also make sure, now and then, that a well-behaved WebSocket client is still served. */
  probeWebSocket?: boolean;
  arbitrary(world: FuzzWorld): fc.Arbitrary<T>;
  run(world: FuzzWorld, input: T): Promise<{ findings: Finding[]; sent: string }>;
}

const WS_PROBE_INTERVAL_MS = 250;
let lastWsProbe = 0;

export function defineProperty<T>(spec: Spec<T>): FuzzProperty {
  return {
    name: spec.name,
    weight: spec.weight,
    ...(spec.maxRuns !== undefined ? { maxRuns: spec.maxRuns } : {}),
    ...(spec.writes ? { writes: true } : {}),
    async check(world, options, judge) {
      const property = fc.asyncProperty(spec.arbitrary(world), async (input) => {
        const errorsBefore = world.internalErrors.length;
        const before = spec.writes ? null : await world.counts();
        const { findings, sent } = await spec.run(world, input);
        const errors = world.internalErrors.slice(errorsBefore);
        for (const error of errors) findings.push({ kind: "5xx", detail: `the server logged an internal error: ${error.slice(0, 300)}` });
        const probe = spec.probeWebSocket === true && Date.now() - lastWsProbe > WS_PROBE_INTERVAL_MS;
        if (probe) lastWsProbe = Date.now();
        const health = await world.health({ websocket: probe });
        if (health) findings.push({ kind: "crash", detail: health });
        if (before) {
          const diff = diffCounts(before, await world.counts());
          if (diff) findings.push({ kind: "data", detail: `rows changed: ${diff}` });
        }
        judge(findings, sent);
      });
      await fc.assert(property, {
        numRuns: options.numRuns,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.timeLimitMs !== undefined ? { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: true } : {}),
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const PUBLIC_PATHS = new Set<string>(PROCEDURES.filter((p) => generatorOf(p.path)?.public === true).map((p) => p.path));
export const PROCEDURE_PATHS = PROCEDURES.map((p) => p.path);

export function tokenIndex(world: FuzzWorld): fc.Arbitrary<number> {
  const valid = world.accessTokens.flatMap((t, i) => (t.owner ? [i] : []));
  return fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...valid) }, { weight: 3, arbitrary: fc.nat({ max: world.accessTokens.length - 1 }) });
}

export function tokenAt(world: FuzzWorld, index: number): TokenChoice {
  const choice = world.accessTokens[index % world.accessTokens.length];
  if (!choice) throw new Error("no tokens");
  return choice;
}

/** Percent-encodes anything; an unpaired surrogate, which has no UTF-8 form, goes as U+FFFD. */
export function encodeLoose(text: string): string {
  return text.replace(LONE_SURROGATES, "\ufffd").replace(/[^A-Za-z0-9\-_.~]/gu, (c) => encodeURIComponent(c));
}

export const contentTypes = [
  "application/json",
  "application/json; charset=utf-8",
  "application/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=----fuzz",
  "application/octet-stream",
  "application/jsonl",
  "text/event-stream",
  "application/json; charset=latin1",
  "*/*",
  "garbage",
  "",
];

export function judgeHttp(where: string, answer: HttpAnswer, sent: string): Finding[] {
  if ("error" in answer) {
    if (answer.error.startsWith("not sent")) return [];
    return [{ kind: "hang", detail: `${where}: ${answer.error}` }];
  }
  const findings = inspect(`${where} -> ${answer.status}`, answer.body, sent);
  if (answer.status >= 500) findings.push({ kind: "5xx", detail: `${where} -> ${answer.status} ${answer.body.slice(0, 300)}` });
  return findings;
}

/** Splits `total` runs over the properties by weight, honouring caps, so that they add up to `total`. */
export function allocateRuns(total: number, properties: readonly FuzzProperty[]): Map<FuzzProperty, number> {
  const runs = new Map<FuzzProperty, number>();
  let open = [...properties];
  let left = total;
  for (;;) {
    const weight = open.reduce((sum, p) => sum + p.weight, 0);
    const capped = open.filter((p) => p.maxRuns !== undefined && (left * p.weight) / weight > p.maxRuns);
    if (capped.length === 0) break;
    for (const p of capped) {
      runs.set(p, p.maxRuns ?? 0);
      left -= p.maxRuns ?? 0;
    }
    open = open.filter((p) => !capped.includes(p));
  }
  const weight = open.reduce((sum, p) => sum + p.weight, 0);
  let given = 0;
  for (const p of open) {
    const n = Math.max(1, Math.floor((left * p.weight) / weight));
    runs.set(p, n);
    given += n;
  }
  const largest = open.reduce<FuzzProperty | undefined>((best, p) => (!best || p.weight > best.weight ? p : best), undefined);
  if (largest) runs.set(largest, (runs.get(largest) ?? 0) + Math.max(0, left - given));
  return runs;
}
