// Scenario 2: memory per idle connection. N authenticated connections, each with a live
// subscription (Parley) or a joined room (baseline); the server's RSS before and after, divided by N.
import { baselineOf, parleyOn, prepareDatabase, type RunContext } from "../context.js";
import { LoadGenerator } from "../load.js";
import { loadPlan, topology, type Target } from "../targets.js";

export interface IdleMeasurement {
  label: string;
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  /** Opening all of them (authenticated and subscribed), in seconds. */
  connectSeconds: number;
}

export interface IdleResult {
  parley: IdleMeasurement;
  baseline: IdleMeasurement;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runIdle(context: RunContext): Promise<IdleResult> {
  const { connections, settleMs } = context.params.idle;
  const layout = topology(connections, context.params.knee.roomSize, 0);
  // Conversations do not change what an idle subscription costs; the baseline still joins rooms.
  const database = await prepareDatabase(context, "sqlite", "s2", connections, []);
  try {
    const measure = async (target: Target): Promise<IdleMeasurement> => {
      const deployment = await target.start();
      try {
        const users = await database.freshUsers(deployment.endpoints[0] ?? "");
        const generator = new LoadGenerator(loadPlan(target, deployment, layout, { users, conversationIds: [] }));
        await sleep(settleMs);
        const before = deployment.probe().rssBytes;
        const started = performance.now();
        await generator.connect({ concurrency: 200, timeoutMs: 300_000 });
        const connectSeconds = (performance.now() - started) / 1000;
        await sleep(settleMs);
        const after = deployment.probe().rssBytes;
        await generator.close();
        const result = {
          label: target.label,
          connections,
          rssBeforeBytes: before,
          rssAfterBytes: after,
          bytesPerConnection: (after - before) / connections,
          connectSeconds,
        };
        context.log(`${target.label}: ${connections} idle connections, RSS ${mb(before)} -> ${mb(after)} MB, ${(result.bytesPerConnection / 1024).toFixed(1)} KB each, opened in ${connectSeconds.toFixed(1)} s`);
        return result;
      } finally {
        await deployment.stop();
      }
    };
    const baseline = await measure(baselineOf(context));
    const parley = await measure(parleyOn(context, database));
    return { parley, baseline };
  } finally {
    await database.drop();
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
