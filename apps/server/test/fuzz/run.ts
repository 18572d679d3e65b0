// Bad input at scale, the long run: `pnpm --filter @parley/server fuzz`. Runs every property of
// properties.ts with NUM_RUNS generated inputs in all (default 10,000), counts instead of stopping
// at the first problem, and prints how many inputs drew a 5xx, a crash, a leak or a changed row,
// with the shortest input of each kind. Exits non-zero on any finding.
//
//   NUM_RUNS=20000 pnpm --filter @parley/server fuzz
//   FUZZ_SEED=42 pnpm --filter @parley/server fuzz                    (replay a run)
//   FUZZ_PROVIDER=postgresql TEST_DATABASE_URL=postgresql://... pnpm --filter @parley/server fuzz
import { PROPERTIES } from "./properties.js";
import { allocateRuns } from "./property.js";
import { answersSeen, type Finding, type FindingKind } from "./transport.js";
import { createWorld, diffCounts } from "./world.js";

const numRuns = Number(process.env.NUM_RUNS ?? 10_000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const provider = process.env.FUZZ_PROVIDER === "postgresql" ? "postgresql" : "sqlite";
if (!Number.isInteger(numRuns) || numRuns < 1) throw new Error("NUM_RUNS must be a positive integer");

const KINDS: FindingKind[] = ["5xx", "crash", "leak", "data", "authz", "hang", "status", "resource"];

interface Tally {
  /** Inputs with at least one finding of the kind. */
  inputs: Map<FindingKind, number>;
  /** The shortest input of each kind, and what was found. */
  examples: Map<FindingKind, { input: string; detail: string }>;
}

const tally: Tally = { inputs: new Map(), examples: new Map() };
let tried = 0;
let processErrors = 0;

function record(findings: Finding[], input: string, where: string): void {
  for (const kind of KINDS) {
    const first = findings.find((f) => f.kind === kind);
    if (!first) continue;
    tally.inputs.set(kind, (tally.inputs.get(kind) ?? 0) + 1);
    const example = tally.examples.get(kind);
    if (!example || input.length < example.input.length) tally.examples.set(kind, { input: `[${where}] ${input}`, detail: first.detail });
  }
}

// The server runs in this process: an exception nobody caught would have crashed it.
process.on("uncaughtException", (error) => {
  processErrors += 1;
  console.error("uncaught exception:", error);
});
process.on("unhandledRejection", (reason) => {
  processErrors += 1;
  console.error("unhandled rejection:", reason);
});

const started = performance.now();
console.log(`fuzz: ${numRuns} inputs on ${provider}, seed ${seed}`);
const world = await createWorld(provider);
// FUZZ_ONLY=<part of a property's name> runs that property alone, with all NUM_RUNS inputs.
const only = process.env.FUZZ_ONLY?.toLowerCase();
const selected = only ? PROPERTIES.filter((p) => p.name.toLowerCase().includes(only)) : PROPERTIES;
const allocation = allocateRuns(numRuns, selected);
for (const property of selected) {
  const runs = allocation.get(property) ?? 0;
  const propertyStarted = performance.now();
  const before = await world.counts();
  const subscriptions = world.server.services.hub.subscriptionCount;
  let found = 0;
  await property.check(world, { numRuns: runs, seed }, (findings, input) => {
    tried += 1;
    if (findings.length > 0) found += 1;
    record(findings, input, property.name);
  });
  // After the property: no row changed, every subscription released, the server still serving.
  const after: Finding[] = [];
  const diff = property.writes ? null : diffCounts(before, await world.counts());
  if (diff) after.push({ kind: "data", detail: `rows changed over the whole property: ${diff}` });
  for (let waited = 0; world.server.services.hub.subscriptionCount > subscriptions && waited < 3_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const open = world.server.services.hub.subscriptionCount - subscriptions;
  if (open > 0) after.push({ kind: "resource", detail: `${open} live subscriptions still open after their connections closed` });
  const health = await world.health({ websocket: true });
  if (health) after.push({ kind: "crash", detail: health });
  if (after.length > 0) record(after, "(after the property)", property.name);
  const seconds = ((performance.now() - propertyStarted) / 1000).toFixed(1);
  console.log(`  ${String(runs).padStart(6)} inputs  ${seconds.padStart(6)} s  ${found + after.length} with findings  ${property.name}`);
}
// The server's own graceful shutdown is part of the test: it must finish after all that.
const left = await world.closeWithin(30_000);
if (left !== null) {
  record([{ kind: "hang", detail: `the server's close() had not finished 30 s after the run; still open: ${left}` }], "(shutdown)", "shutdown");
}

const count = (kind: FindingKind) => tally.inputs.get(kind) ?? 0;
console.log("");
console.log(`inputs tried: ${tried}`);
console.log(`5xx seen: ${count("5xx")}`);
console.log(`crashes seen: ${count("crash") + processErrors}`);
console.log(`leaks seen: ${count("leak")}`);
console.log(`changed rows seen: ${count("data")}`);
console.log(`other findings: ${KINDS.filter((k) => !["5xx", "crash", "leak", "data"].includes(k)).map((k) => `${k} ${count(k)}`).join(", ")}`);
const answers = [...answersSeen.entries()].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }));
console.log(`\nwhat the inputs drew: ${answers.map(([key, n]) => `${key}: ${n}`).join(", ")}`);
for (const [key, example] of tally.examples) {
  console.log(`\nshortest input with ${key}:\n  ${example.input.slice(0, 1500)}\n  -> ${example.detail.slice(0, 600)}`);
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s, seed ${seed}`);
const failed = KINDS.some((k) => count(k) > 0) || processErrors > 0;
process.exit(failed ? 1 : 0);
