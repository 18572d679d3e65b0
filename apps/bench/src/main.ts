// `pnpm bench` (quick, about three minutes) and `pnpm bench -- --full` (everything, then results,
// chart and a markdown summary written to apps/bench/results/). See BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { RunContext } from "./context.js";
import { dropRunDatabases } from "./databases.js";
import { fullParams, quickParams, type Params } from "./params.js";
import { benchDir, canPin, serverBundle, stopAllServers } from "./processes.js";
import { cpuTable, profileTable, searchTable, summaryTable, uploadTable, writeReport, type BenchResults, type Machine } from "./report.js";
import { runCpu } from "./scenarios/cpu.js";
import { runDelivery } from "./scenarios/delivery.js";
import { runHistory } from "./scenarios/history.js";
import { runIdle } from "./scenarios/idle.js";
import { runLiveState, type LiveStateId } from "./scenarios/live-state.js";
import { runLogins } from "./scenarios/logins.js";
import { runPgOrder } from "./scenarios/pg-order.js";
import { runSearch } from "./scenarios/search.js";
import { runUpload } from "./scenarios/upload.js";

// s1sync (scenario 1 with every client on sync.events), cpu, pg-order, search and upload run only when named in --only.
const SCENARIOS = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"] as const;

// `pnpm bench -- --full` hands the "--" on to the script: drop it.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();

const { values: args } = parseArgs({
  args: argv,
  options: {
    full: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    postgres: { type: "string" },
    "no-postgres": { type: "boolean", default: false },
    redis: { type: "string" },
    "no-pin": { type: "boolean", default: false },
    write: { type: "boolean", default: false },
    "max-minutes": { type: "string" },
    profile: { type: "boolean", default: false },
    "profile-rate": { type: "string" },
    "node-flags": { type: "string" },
    server: { type: "string" },
    label: { type: "string" },
    against: { type: "string" },
    "against-label": { type: "string" },
    rates: { type: "string" },
    rounds: { type: "string" },
    "room-size": { type: "string" },
    "live-rate": { type: "string" },
    report: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  console.log(`usage: pnpm bench [-- --full] [--only s1,s2,s3,s4,s5,s6,s7,s8,s9,s1sync,cpu,pg-order,search,upload] [--postgres URL] [--redis URL] [--profile] [--no-pin] [--write] [--max-minutes N]

  (default)   quick: about three minutes, SQLite only, smaller sizes; prints the table
  --full      every scenario at full size, also on PostgreSQL and on two instances with Redis;
              writes results/<time>.json, .svg (p99 against rate) and .md
  --postgres  PostgreSQL server to create databases on (full default postgresql://postgres@127.0.0.1:5432/postgres)
  --redis     Redis for the two-instance run (full default redis://127.0.0.1:6379)
  --no-postgres  full, but SQLite only (no PostgreSQL or Redis runs)
  --profile   also profile the server (node --cpu-prof) for one step at scenario 1's knee (full does)
  --profile-rate N  profile at N sends/s instead of at the knee
  --node-flags "..."  extra node flags for the Parley servers (e.g. --node-flags=--max-semi-space-size=32)
  --no-pin    do not pin the servers (core 0) and the generator (core 1) with taskset
  --server    another build of the server to measure (default apps/server/dist/main.js), with
  --label     a name for it in the results (e.g. the commit it was built from)
  --live-rate N  send rate of scenarios 6-8 when scenario 1 is not in the run (default: half its knee)
  s1sync      scenario 1 with every Parley client on sync.events instead of message.live
  cpu         server CPU per delivery at fixed rates (--rates 770,1200,2000), scenario 1's rooms, Parley
              and the baseline (and --against <other build's dist/main.js> --against-label <name>, or
              --against no-search-index: this build on a database without the search index) connected
              at once, their steps interleaved for --rounds N (default 3); medians. SQLite, or
              PostgreSQL with --postgres (whose own processes' CPU is shown apart); --room-size N for
              rooms of N instead of 10 (same clients and senders: divide the rates by N/10 for the
              same deliveries per second)
  pg-order    events committed per second into one order on PostgreSQL, 1, 2 and 4 writer processes
  search      message.search over 1,000,000 messages in 1,000 conversations, SQLite and PostgreSQL
              (--no-postgres: SQLite only); give it --max-minutes 40 when PostgreSQL is seeded
  upload      ten parallel 25 MB uploads (random bytes), then ten 4000x3000 JPEGs, through POST /files
              (SQLite), against a bare Node server that streams the body to a file; MB/s, RSS, CPU
  --report    re-render the .md and .svg of a results .json, measuring nothing`);
  process.exit(0);
}

if (args.report) {
  const file = resolve(args.report);
  const saved = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  writeReport(saved, dirname(file), basename(file, ".json"));
  console.log(summaryTable(saved));
  process.exit(0);
}

const base: Params = args.full ? fullParams : quickParams;
const params: Params = {
  ...base,
  postgres: (base.postgres && !args["no-postgres"]) || args.postgres !== undefined,
  redis: ((base.redis && !args["no-postgres"]) || args.redis !== undefined) && !args["no-postgres"],
  profile: base.profile || args.profile,
};
const only = new Set((args.only ?? SCENARIOS.join(",")).split(",").map((s) => s.trim()));
const postgresUrl = params.postgres ? (args.postgres ?? "postgresql://postgres@127.0.0.1:5432/postgres") : null;
// pg-order and search use PostgreSQL whether or not the run's other scenarios do.
const scenarioPostgresUrl = postgresUrl ?? (only.has("pg-order") || (only.has("search") && !args["no-postgres"]) ? "postgresql://postgres@127.0.0.1:5432/postgres" : null);
const redisUrl = params.redis ? (args.redis ?? "redis://127.0.0.1:6379") : null;
const maxMinutes = Number(args["max-minutes"] ?? (params.mode === "full" ? 180 : 15));

const bundle = args.server ? resolve(args.server) : serverBundle;
if (!existsSync(bundle)) {
  console.error(`${bundle} is missing: run \`pnpm --filter @parley/server build\` first.`);
  process.exit(1);
}

const pinned = !args["no-pin"] && cpus().length >= 2 && canPin();
if (pinned) execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });

const startedAt = new Date();
const workDir = mkdtempSync(join(tmpdir(), "parley-bench-"));
const runId = randomUUID().replace(/-/g, "").slice(0, 6);
const log = (line: string) => console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(5)} s] ${line}`);
const context: RunContext = {
  params,
  runId,
  workDir,
  jwtSecret: randomBytes(48).toString("base64url"),
  serverBundle: bundle,
  serverNodeFlags: (args["node-flags"] ?? "").split(" ").filter(Boolean),
  profileRate: args["profile-rate"] ? Number(args["profile-rate"]) : null,
  serverCpu: pinned ? 0 : null,
  postgresUrl,
  redisUrl,
  log,
  templates: new Map(),
  scenarios: only,
};

const results: BenchResults = {
  mode: params.mode,
  startedAt: startedAt.toISOString(),
  durationSeconds: 0,
  machine: machine(pinned),
  git: gitState(),
  server: { bundle, label: args.label ?? (args.server ? basename(bundle) : "this checkout") },
  params,
  s1: null,
  s1Postgres: null,
  s1Redis: null,
  s2: null,
  s3: null,
  s3Postgres: null,
  s4: [],
  s5: null,
  s1Sync: null,
  live: [],
  pgOrder: null,
  search: [],
  upload: null,
  cpu: null,
  failures: [],
};

let cleaningUp: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    await stopAllServers();
    if (scenarioPostgresUrl) await dropRunDatabases(scenarioPostgresUrl, runId).catch((error: unknown) => log(`could not drop this run's databases: ${String(error)}`));
    rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaningUp;
}
const abort = (why: string) => {
  log(`${why}: stopping servers and dropping databases`);
  void cleanUp().finally(() => process.exit(2));
};
process.once("SIGINT", () => abort("interrupted"));
process.once("SIGTERM", () => abort("terminated"));
setTimeout(() => abort(`over the ${maxMinutes}-minute limit`), maxMinutes * 60_000).unref();

async function attempt<T>(scenario: string, run: () => Promise<T>, key = scenario.slice(0, 2)): Promise<T | null> {
  if (!only.has(key)) return null;
  log(`== ${scenario}`);
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${scenario} failed: ${message}`);
    results.failures.push({ scenario, error: message });
    return null;
  }
}

log(
  `Parley bench, ${params.mode} mode; ${results.machine.cores} cores (${results.machine.cpuModel}), ${pinned ? "servers on core 0, generator on core 1" : "not pinned"}; ` +
    `work directory ${workDir}`,
);
try {
  results.s1 = await attempt("s1 (SQLite)", () => runDelivery(context, { id: "s1", provider: "sqlite", instances: 1, withBaseline: true, profile: params.profile }));
  results.s2 = await attempt("s2", () => runIdle(context));
  results.s3 = await attempt("s3 (SQLite)", () => runDelivery(context, { id: "s3", provider: "sqlite", instances: 1, withBaseline: true, profile: false }));
  const sqliteHistory = await attempt("s4 (SQLite)", () => runHistory(context, "sqlite"));
  if (sqliteHistory) results.s4.push(sqliteHistory);
  const knee = results.s1?.parley.knee ?? 0;
  results.s5 = await attempt("s5", () => runLogins(context, knee > 0 ? knee : (params.knee.ladder[0] ?? 10) * 2));
  results.s1Sync = await attempt("s1 (SQLite, sync.events)", () => runDelivery(context, { id: "s1", provider: "sqlite", instances: 1, withBaseline: false, profile: false, feed: "sync.events" }), "s1sync");
  const liveRate = args["live-rate"] ? Number(args["live-rate"]) : knee > 0 ? Math.round(knee / 2) : (params.knee.ladder[0] ?? 10) * 2;
  for (const id of ["s6", "s7", "s8", "s9"] as LiveStateId[]) {
    const result = await attempt(`${id} (SQLite, ${liveRate} sends/s)`, () => runLiveState(context, id, liveRate));
    if (result) (results.live ??= []).push(result);
  }
  if (only.has("cpu")) {
    const rates = (args.rates ?? "770,1200,2000").split(",").map(Number);
    if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`--rates: positive numbers separated by commas, not ${args.rates}`);
    const against =
      args.against === "no-search-index"
        ? ({ kind: "no-search-index" } as const)
        : args.against
          ? ({ kind: "build", bundle: resolve(args.against), label: args["against-label"] ?? basename(dirname(dirname(dirname(resolve(args.against))))) } as const)
          : null;
    if (against?.kind === "build" && !existsSync(against.bundle)) throw new Error(`--against: ${against.bundle} does not exist`);
    const provider = postgresUrl ? "postgresql" : "sqlite";
    const roomSize = args["room-size"] === undefined ? undefined : Number(args["room-size"]);
    if (roomSize !== undefined && !(Number.isInteger(roomSize) && roomSize >= 2 && roomSize <= params.knee.clients)) {
      throw new Error(`--room-size: a whole number from 2 to ${params.knee.clients} (the clients), not ${args["room-size"]}`);
    }
    results.cpu = await attempt(`cpu (${provider})`, () => runCpu(context, { rates, rounds: Number(args.rounds ?? 3), roomSize, label: results.server.label, provider, against }), "cpu");
  }
  if (scenarioPostgresUrl && only.has("pg-order")) {
    results.pgOrder = await attempt("pg-order", () => runPgOrder(context, scenarioPostgresUrl), "pg-order");
  }
  if (only.has("search")) {
    for (const provider of args["no-postgres"] ? (["sqlite"] as const) : (["sqlite", "postgresql"] as const)) {
      const run = await attempt(`search (${provider})`, () => runSearch({ ...context, postgresUrl: scenarioPostgresUrl }, provider), "search");
      if (run) (results.search ??= []).push(run);
    }
  }
  if (only.has("upload")) results.upload = await attempt("upload (SQLite)", () => runUpload(context), "upload");
  if (postgresUrl) {
    results.s1Postgres = await attempt("s1 (PostgreSQL)", () => runDelivery(context, { id: "s1", provider: "postgresql", instances: 1, withBaseline: false, profile: false }));
    results.s3Postgres = await attempt("s3 (PostgreSQL)", () => runDelivery(context, { id: "s3", provider: "postgresql", instances: 1, withBaseline: false, profile: false }));
    const postgresHistory = await attempt("s4 (PostgreSQL)", () => runHistory(context, "postgresql"));
    if (postgresHistory) results.s4.push(postgresHistory);
    if (redisUrl) {
      results.s1Redis = await attempt("s1 (2 instances, Redis)", () => runDelivery(context, { id: "s1", provider: "postgresql", instances: 2, withBaseline: false, profile: false }));
    }
  }
} finally {
  results.durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  if (params.mode === "full" || args.write) {
    const directory = join(benchDir, "results");
    const stamp = `${params.mode}-${startedAt.toISOString().slice(0, 16).replace(/[:T]/g, "")}`;
    writeReport(results, directory, stamp);
    log(`results written to ${directory}/${stamp}.*`);
  }
  await cleanUp();
}

console.log(`\nParley bench (${params.mode}), ${results.startedAt}, ${results.durationSeconds} s\n`);
console.log(summaryTable(results));
if (results.search?.length) console.log(`\nmessage.search, one call at a time over HTTP (ms):\n${searchTable(results.search)}`);
if (results.cpu) console.log(`\nServer CPU per delivery at fixed rates (rooms of ${results.cpu.roomSize}, steps interleaved):\n${cpuTable(results.cpu)}`);
if (results.upload) console.log(`\nUploads, ${results.upload.clients} at once, Parley against a bare Node server streaming to disk:\n${uploadTable(results.upload)}`);
if (results.s1?.profile) console.log(`\nServer CPU profile near the knee (scenario 1):\n${profileTable(results.s1.profile)}`);
process.exit(results.failures.length > 0 ? 1 : 0);

function machine(isPinned: boolean): Machine {
  const memoryKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  return { cpuModel: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryBytes: memoryKb * 1024, kernel: release(), node: process.version, pinned: isPinned };
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: benchDir, encoding: "utf8" }).trim();
    // Only the server's code decides the numbers.
    const changes = execFileSync("git", ["status", "--porcelain", "--", "../../packages", "../server"], { cwd: benchDir, encoding: "utf8" }).trim();
    return { commit, dirty: changes.length > 0 };
  } catch {
    return { commit: "unknown", dirty: false };
  }
}
