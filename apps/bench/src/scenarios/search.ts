// The search scenario (issue 14): message.search over 1,000,000 messages in 1,000 conversations,
// each user a member of 20-50 of them. The rows are seeded by src/seed-search.ts in a process of
// its own (SQLite: once, then kept under results/search-cache, keyed by the corpus version and the
// newest migration); then the server is started pinned and logged-in users search over HTTP, one
// call at a time, each class of query in turn, every user below the per-user search limit.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readMigrations } from "@parley/db";
import type { RunContext } from "../context.js";
import { emptyPostgresDatabase, type Provider } from "../databases.js";
import { benchDir, startParley } from "../processes.js";
import { mulberry32 } from "../random.js";
import { FULL_CORPUS, QUERY_CLASSES, queryFor, SEARCH_SEED_VERSION, SearchCorpus, type CorpusShape, type QueryClass, type SearchQuery } from "../search-corpus.js";
import type { SearchSeedRequest } from "../seed-search.js";
import { apiClient, BENCH_PASSWORD, inParallel } from "../setup.js";
import { Samples, type Distribution } from "../stats.js";

const seedScript = fileURLToPath(new URL("../seed-search.ts", import.meta.url));

/** Timed queries per class, and the time they may take together on one database. */
const QUERIES_PER_CLASS = 300;
const MEASURE_LIMIT_MS = 8 * 60_000;
/** Users searching: enough that each stays below the server's 60 searches per 10 s. */
const SEARCHERS = 60;
const PER_USER = { max: 50, windowMs: 10_500 };
export const SEARCH_P99_LIMIT_MS = 50;
/** A call that takes longer is counted as failed (and not timed). */
const CALL_TIMEOUT_MS = 60_000;

export interface SearchClassResult {
  kind: QueryClass;
  latency: Distribution;
  /** Queries whose (timed) page had no result. */
  empty: number;
}

export interface SearchRun {
  provider: Provider;
  messages: number;
  conversations: number;
  /** Seeding time; null when a cached SQLite file was used. */
  seedSeconds: number | null;
  classes: SearchClassResult[];
  errors: number;
}

export async function runSearch(context: RunContext, provider: Provider, shape: CorpusShape = FULL_CORPUS): Promise<SearchRun> {
  const { url, seedSeconds, drop } = provider === "sqlite" ? await sqliteDatabase(context, shape) : await postgresDatabase(context, shape);
  try {
    const corpus = new SearchCorpus(shape);
    const server = await startParley(
      { bundle: context.serverBundle, nodeFlags: context.serverNodeFlags, databaseUrl: url, dataDir: context.workDir, jwtSecret: context.jwtSecret, cpu: context.serverCpu },
      `parley (search, ${provider})`,
    );
    try {
      const api = apiClient(server.url);
      const tokens = await inParallel(SEARCHERS, 4, async (i) => (await api.auth.login.mutate({ username: corpus.usernames[i] ?? "", password: BENCH_PASSWORD })).accessToken);
      const search = searcher(server.url, tokens);
      const random = mulberry32(SEARCH_SEED_VERSION);
      let turn = 0;
      const ask = async (kind: QueryClass): Promise<{ ms: number; items: number } | null> => {
        const user = turn++ % SEARCHERS;
        return search(user, queryFor(corpus, user, kind, random));
      };
      // Warm-up: the server's code, the statements and the database's pages.
      for (let round = 0; round < 10; round += 1) for (const kind of QUERY_CLASSES) await ask(kind);
      const samples = new Map(QUERY_CLASSES.map((kind) => [kind, { latency: new Samples(QUERIES_PER_CLASS), empty: 0 }]));
      const deadline = Date.now() + MEASURE_LIMIT_MS;
      for (let round = 0; round < QUERIES_PER_CLASS && Date.now() < deadline; round += 1) {
        if (round % 50 === 0) context.log(`${provider}: round ${round} of ${QUERIES_PER_CLASS}`);
        for (const kind of QUERY_CLASSES) {
          const result = await ask(kind);
          const sample = samples.get(kind);
          if (!result || !sample) continue;
          sample.latency.push(result.ms);
          if (result.items === 0) sample.empty += 1;
        }
      }
      const run: SearchRun = {
        provider,
        messages: shape.messages,
        conversations: shape.conversations,
        seedSeconds,
        classes: QUERY_CLASSES.map((kind) => ({ kind, latency: samples.get(kind)?.latency.distribution() ?? { count: 0, p50: 0, p95: 0, p99: 0, max: 0 }, empty: samples.get(kind)?.empty ?? 0 })),
        errors: search.errors(),
      };
      for (const c of run.classes) {
        context.log(`${provider} ${c.kind}: ${c.latency.count} queries, p50 ${c.latency.p50.toFixed(1)} p99 ${c.latency.p99.toFixed(1)} max ${c.latency.max.toFixed(1)} ms, ${c.empty} empty`);
      }
      return run;
    } finally {
      await server.stop();
    }
  } finally {
    await drop();
  }
}

/**
 * message.search over HTTP as a client calls it, for user `user` of `tokens`, timed; a second
 * page is asked with the first one's nextCursor, and only it is timed. Waits while the user is at
 * the per-user limit. null when the call failed or there was no second page.
 */
function searcher(url: string, tokens: string[]) {
  const recent = tokens.map(() => [] as number[]);
  let errors = 0;
  const call = async (user: number, input: Record<string, string>) => {
    const times = recent[user] ?? [];
    while (times.length >= PER_USER.max) {
      const wait = (times[0] ?? 0) + PER_USER.windowMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      times.shift();
    }
    times.push(Date.now());
    const started = performance.now();
    try {
      const response = await fetch(`${url}/trpc/message.search?input=${encodeURIComponent(JSON.stringify(input))}`, {
        headers: { authorization: `Bearer ${tokens[user] ?? ""}` },
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const body = (await response.json()) as { result?: { data?: { items?: unknown[]; nextCursor?: string | null } } };
      const ms = performance.now() - started;
      const data = body.result?.data;
      if (!response.ok || !data?.items) throw new Error(`HTTP ${response.status}`);
      return { ms, items: data.items.length, nextCursor: data.nextCursor ?? null };
    } catch {
      errors += 1;
      return null;
    }
  };
  const search = async (user: number, { query, conversationId, secondPage }: SearchQuery) => {
    const input: Record<string, string> = conversationId ? { query, conversationId } : { query };
    const first = await call(user, input);
    if (!secondPage || !first) return first;
    if (first.nextCursor === null) return null;
    return call(user, { ...input, cursor: first.nextCursor });
  };
  return Object.assign(search, { errors: () => errors });
}

interface SearchDatabase {
  url: string;
  seedSeconds: number | null;
  drop(): Promise<void>;
}

/** A copy of the cached seeded file, seeding it first when there is none for this corpus and schema. */
async function sqliteDatabase(context: RunContext, shape: CorpusShape): Promise<SearchDatabase> {
  const cacheDir = join(benchDir, "results", "search-cache");
  const newestMigration = readMigrations("sqlite").at(-1)?.name ?? "none";
  const cached = join(cacheDir, `search-v${SEARCH_SEED_VERSION}-${shape.messages}-${newestMigration}.db`);
  let seedSeconds: number | null = null;
  if (existsSync(cached)) {
    context.log(`sqlite: seeded database from ${cached}`);
  } else {
    mkdirSync(cacheDir, { recursive: true });
    const seeding = `${cached}.seeding`;
    rmSync(seeding, { force: true });
    seedSeconds = await seed(context, { databaseUrl: `file:${seeding}`, jwtSecret: context.jwtSecret, shape });
    renameSync(seeding, cached);
  }
  const path = join(context.workDir, "search.db");
  copyFileSync(cached, path);
  return { url: `file:${path}`, seedSeconds, drop: async () => ["", "-wal", "-shm"].forEach((suffix) => rmSync(`${path}${suffix}`, { force: true })) };
}

async function postgresDatabase(context: RunContext, shape: CorpusShape): Promise<SearchDatabase> {
  const database = await emptyPostgresDatabase(context.postgresUrl ?? "postgresql://postgres@127.0.0.1:5432/postgres", context.runId, "search");
  try {
    const seedSeconds = await seed(context, { databaseUrl: database.url, jwtSecret: context.jwtSecret, shape });
    return { url: database.url, seedSeconds, drop: database.drop };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/**
 * Seeds in a child process (importing the server's code into the generator's process slows its
 * garbage collection: see scenarios/history.ts), passing its progress lines on to the log.
 */
function seed(context: RunContext, request: SearchSeedRequest): Promise<number> {
  const label = request.databaseUrl.startsWith("postgres") ? "postgresql" : "sqlite";
  context.log(`${label}: seeding ${request.shape.messages} messages`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", seedScript, JSON.stringify(request)], { cwd: benchDir, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill(), 30 * 60_000);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) context.log(`${label} seed: ${line}`);
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0) return reject(new Error(`seeding ${label} exited with ${code}`));
      const seconds = (JSON.parse(last) as { seconds: number }).seconds;
      context.log(`${label}: seeded in ${seconds.toFixed(0)} s`);
      resolve(seconds);
    });
  });
}
