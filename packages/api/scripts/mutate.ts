// `pnpm mutate [auth|domain|live ...] [-- stryker flags]`: mutation testing of the API's own suite,
// one area at a time (by hand, not part of `pnpm test`; a whole run takes hours on two cores).
// `pnpm mutate report` prints the scores and survivors of the last runs without running anything.
//
// Each area keeps Stryker's incremental results in mutation/<area>.json, which is committed: the
// next run, on any machine, tests only the mutants whose code or covering tests changed since, so a
// session can afford to keep the score measured. After the runs it prints each area's score from
// those files and the mutants that survived, and fails when an area is below the threshold.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const AREAS = ["auth", "domain", "live"] as const;
type Area = (typeof AREAS)[number];
/** The lowest score an area may have (the issue's bar, and stryker.config.mjs's `break`). */
const THRESHOLD = 85;

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsOf = (area: Area) => join(packageDir, "mutation", `${area}.json`);

/** The part of Stryker's report (mutation-testing-report-schema) read here. */
interface Report {
  files: Record<string, { mutants: { status: string; mutatorName: string; replacement?: string; location: { start: { line: number } } }[] }>;
}

const KILLED = new Set(["Killed", "Timeout"]);
const COUNTED = new Set(["Killed", "Timeout", "Survived", "NoCoverage"]);

function summarise(area: Area): { score: number; killed: number; counted: number; survivors: string[] } | null {
  const path = resultsOf(area);
  if (!existsSync(path)) return null;
  const report = JSON.parse(readFileSync(path, "utf8")) as Report;
  let killed = 0;
  let counted = 0;
  const survivors: string[] = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const mutant of mutants) {
      if (!COUNTED.has(mutant.status)) continue;
      counted += 1;
      if (KILLED.has(mutant.status)) killed += 1;
      else survivors.push(`${file}:${mutant.location.start.line} ${mutant.status} ${mutant.mutatorName}${mutant.replacement ? ` -> ${mutant.replacement.replace(/\s+/g, " ").slice(0, 80)}` : ""}`);
    }
  }
  return { score: counted === 0 ? 100 : (100 * killed) / counted, killed, counted, survivors };
}

const separator = process.argv.indexOf("--");
const named = (separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator)).filter((a) => a !== "--");
const passThrough = separator === -1 ? [] : process.argv.slice(separator + 1);
const reportOnly = named.includes("report");
const unknown = named.filter((a) => a !== "report" && !(AREAS as readonly string[]).includes(a));
if (unknown.length > 0) {
  console.error(`unknown area ${unknown.join(", ")}: choose from ${AREAS.join(", ")}`);
  process.exit(2);
}
const chosen = named.filter((a): a is Area => (AREAS as readonly string[]).includes(a));
const areas = chosen.length > 0 ? chosen : [...AREAS];

if (!reportOnly) {
  for (const area of areas) {
    console.log(`\n== mutation testing: src/${area}`);
    const run = spawnSync(
      join(packageDir, "node_modules", ".bin", "stryker"),
      ["run", "--mutate", `src/${area}/**/*.ts`, "--incrementalFile", `mutation/${area}.json`, ...passThrough],
      { cwd: packageDir, stdio: "inherit" },
    );
    if (run.status !== 0) {
      console.error(`Stryker failed on src/${area} (exit ${run.status ?? run.signal})`);
      process.exit(1);
    }
  }
}

let failed = false;
console.log("\n| area | score | killed / counted |\n|---|---|---|");
for (const area of AREAS) {
  const summary = summarise(area);
  if (!summary) {
    console.log(`| ${area} | not measured yet | |`);
    if (areas.includes(area)) failed = true;
    continue;
  }
  console.log(`| ${area} | ${summary.score.toFixed(1)}% | ${summary.killed} / ${summary.counted} |`);
  if (summary.score < THRESHOLD) failed = true;
}
for (const area of AREAS) {
  const summary = summarise(area);
  if (!summary || summary.survivors.length === 0) continue;
  console.log(`\nSurvivors in src/${area} (${summary.survivors.length}):`);
  for (const line of summary.survivors) console.log(`  ${line}`);
}
if (failed) {
  console.error(`\nAn area is below ${THRESHOLD}% (or was not measured).`);
  process.exit(1);
}
