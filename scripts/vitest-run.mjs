// `pnpm test` of every package: `vitest run` with the caller's arguments.
//
// pnpm hands a script everything after its own `--` *with* the `--` (`pnpm test -- -t name` runs
// `vitest run -- -t name`), and vitest takes what follows `--` as neither option nor filter: the
// filter was dropped and every test ran. So a leading `--` is dropped here, and both
// `pnpm test -- -t name` and `pnpm test -t name` run only the matching tests.
//
// Usage in package.json: node ../../scripts/vitest-run.mjs [--configs=a.config.ts,b.config.ts]
// With --configs, vitest runs once per config, in order, each with the caller's arguments; the
// first failure stops the rest.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";

let args = process.argv.slice(2);
let configs = [undefined];
if (args[0]?.startsWith("--configs=")) {
  configs = args[0].slice("--configs=".length).split(",");
  args = args.slice(1);
}
if (args[0] === "--") args = args.slice(1);

// The package's own vitest, started with this Node: no PATH lookup, no shell to re-split arguments.
const require = createRequire(path.join(process.cwd(), "package.json"));
const vitestManifest = require.resolve("vitest/package.json");
const vitest = path.join(path.dirname(vitestManifest), require(vitestManifest).bin.vitest);

for (const config of configs) {
  const vitestArgs = ["run", ...(config ? ["--config", config] : []), ...args];
  const run = spawnSync(process.execPath, [vitest, ...vitestArgs], { stdio: "inherit" });
  if (run.error) throw run.error;
  if (run.status !== 0) process.exit(run.status ?? 1);
}
