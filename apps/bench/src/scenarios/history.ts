// Scenario 4: message.list on a conversation holding a million messages. The rows are seeded with
// SQL in batches into a database the server has migrated (src/seed-history.ts, in a process of its
// own), then the server is started pinned and asked for pages over HTTP, one call at a time.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parleyOn, prepareDatabase, type RunContext } from "../context.js";
import type { Provider } from "../databases.js";
import { benchDir } from "../processes.js";
import type { SeedRequest, SeedResult } from "../seed-history.js";
import { mulberry32 } from "../random.js";
import { Samples, type Distribution } from "../stats.js";

const run = promisify(execFile);
const seedScript = fileURLToPath(new URL("../seed-history.ts", import.meta.url));

export interface HistoryResult {
  provider: Provider;
  messages: number;
  calls: number;
  /** The newest page (no cursor): what opening a conversation asks for. */
  newest: Distribution;
  /** A page before a random cursor anywhere in the history: scrolling back. */
  deep: Distribution;
  errors: number;
  seedSeconds: number;
}

const PAGE = 50;

export async function runHistory(context: RunContext, provider: Provider): Promise<HistoryResult> {
  const { messages, calls, seedBatch } = context.params.history;
  const database = await prepareDatabase(context, provider, `s4-${provider}`, 2, [[0, 1]]);
  try {
    const conversationId = database.conversationIds[0] ?? "";
    const seedStarted = performance.now();
    const { firstId, lastId } = await seed({
      databaseUrl: database.url,
      jwtSecret: context.jwtSecret,
      accessToken: database.users[0]?.accessToken ?? "",
      conversationId,
      count: messages,
      batch: seedBatch,
    });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    context.log(`${provider}: ${messages} messages seeded in ${seedSeconds.toFixed(0)} s`);

    const deployment = await parleyOn(context, database).start();
    try {
      const [user] = await database.freshUsers(deployment.endpoints[0] ?? "");
      const base = `${deployment.endpoints[0]}/trpc/message.list?input=`;
      const headers = { authorization: `Bearer ${user?.accessToken ?? ""}` };
      let errors = 0;
      const page = async (cursor: bigint | null): Promise<number> => {
        const input = cursor === null ? { conversationId, limit: PAGE } : { conversationId, limit: PAGE, cursor: cursor.toString() };
        const started = performance.now();
        const response = await fetch(base + encodeURIComponent(JSON.stringify(input)), { headers });
        const body = (await response.json()) as { result?: { data?: { items?: unknown[] } } };
        const elapsed = performance.now() - started;
        if (!response.ok || body.result?.data?.items?.length !== PAGE) errors += 1;
        return elapsed;
      };
      const random = mulberry32(42);
      const randomCursor = () => firstId + BigInt(PAGE) + BigInt(Math.floor(random() * Number(lastId - firstId - BigInt(PAGE))));
      for (let i = 0; i < 50; i += 1) await page(i % 2 === 0 ? null : randomCursor());
      const newest = new Samples();
      const deep = new Samples();
      const deadline = Date.now() + 300_000;
      for (let i = 0; i < calls && Date.now() < deadline; i += 1) {
        newest.push(await page(null));
        deep.push(await page(randomCursor()));
      }
      const result = { provider, messages, calls: newest.count, newest: newest.distribution(), deep: deep.distribution(), errors, seedSeconds };
      context.log(
        `${provider}: message.list over ${messages} messages: newest page p50 ${result.newest.p50.toFixed(2)} p99 ${result.newest.p99.toFixed(2)} ms; ` +
          `random cursor p50 ${result.deep.p50.toFixed(2)} p99 ${result.deep.p99.toFixed(2)} ms; errors ${errors}`,
      );
      return result;
    } finally {
      await deployment.stop();
    }
  } finally {
    await database.drop();
  }
}

/**
 * Seeds in a child process: importing the server's code into the generator's process makes every
 * later garbage collection of the generator several times slower (measured: p99 of the baseline at
 * 29,000 deliveries/s went from 4 ms to 16 ms), which would be measured as the servers' latency.
 */
async function seed(request: SeedRequest): Promise<{ firstId: bigint; lastId: bigint }> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", seedScript, JSON.stringify(request)], { cwd: benchDir, timeout: 600_000, maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as SeedResult;
  return { firstId: BigInt(result.firstId), lastId: BigInt(result.lastId) };
}
