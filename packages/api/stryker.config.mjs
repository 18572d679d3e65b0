// Mutation testing of the API's own suite: `pnpm mutate` from the root (run by hand, not part of
// `pnpm test`). Stryker changes one thing at a time in the code below (a condition, a value, a
// removed call) and runs the tests that cover it; a change no test notices is a missing test.
// Stryker 9.6 is the newest line that runs on Node 20 (10.x needs Node 22).
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  // Named, because pnpm's isolated node_modules hides it from Stryker's own "@stryker-mutator/*" scan.
  plugins: ["@stryker-mutator/vitest-runner"],
  testRunner: "vitest",
  vitest: { configFile: "vitest.config.ts" },
  coverageAnalysis: "perTest",
  // Every test file but the API reference check, which compares against docs/ at the repository
  // root and cannot find it from Stryker's sandbox copy of this package.
  testFiles: ["test/!(api-reference).test.ts"],
  mutate: ["src/auth/**/*.ts", "src/domain/**/*.ts", "src/live/**/*.ts"],
  // Reruns test only what changed since the last run. `pnpm mutate` keeps one file per area under
  // mutation/ (committed, so the next run anywhere starts from these results).
  // Mutants that run only while modules load (constants) would each need every test file reloaded
  // and rerun, which took three quarters of the time here; they are reported as ignored instead.
  // A full run: pnpm mutate --ignoreStatic false
  ignoreStatic: true,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  // The machines are shared: two workers at most, and generous timeouts so a loaded machine does
  // not turn a slow mutant into a "timeout" kill.
  concurrency: 2,
  timeoutFactor: 3,
  timeoutMS: 15_000,
  // scripts/mutate.ts judges each area against 85% after all the areas ran (a `break` here would stop
  // the run at the first area below it).
  thresholds: { high: 90, low: 85, break: null },
};
