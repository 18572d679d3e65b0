// Scenario 5: a burst of concurrent logins (argon2 on the server) while scenario 1's load runs at
// half its knee. Delivery p99 before the burst and during it must not differ much.
import { parleyOn, prepareDatabase, type RunContext } from "../context.js";
import { describeStep } from "../knee.js";
import type { StepResult } from "../load.js";
import { Session } from "../session.js";
import { logIn } from "../setup.js";
import { distributionOf, type Distribution } from "../stats.js";
import { loadPlan, topology } from "../targets.js";

export interface LoginsResult {
  rate: number;
  logins: number;
  loginErrors: Record<string, number>;
  loginLatency: Distribution;
  step: StepResult;
}

export async function runLogins(context: RunContext, kneeRate: number): Promise<LoginsResult> {
  const { params, log } = context;
  const { clients, roomSize, senders, ladder } = params.knee;
  const layout = topology(clients, roomSize, senders);
  const rate = Math.max(ladder[0] ?? 10, Math.round(kneeRate / 2));
  const database = await prepareDatabase(context, "sqlite", "s5", clients, layout.rooms);
  try {
    const target = parleyOn(context, database);
    const session = await Session.open({
      target,
      plan: async (deployment) => loadPlan(target, deployment, layout, { users: await database.freshUsers(deployment.endpoints[0] ?? ""), conversationIds: database.conversationIds }),
      warmUp: { rate, ms: params.step.warmupMs * 2 },
    });
    try {
      const endpoint = session.deployment.endpoints[0] ?? "";
      const latencies: number[] = [];
      const loginErrors: Record<string, number> = {};
      const burst = async () => {
        // Different users than the senders' first ones would not matter: every login costs the same argon2.
        const users = database.users.slice(0, params.logins.count);
        await Promise.all(
          users.map(async (user) => {
            try {
              latencies.push(await logIn(endpoint, user));
            } catch (error) {
              const code = (error as { data?: { code?: string } }).data?.code ?? (error instanceof Error ? error.message : "UNKNOWN");
              loginErrors[code] = (loginErrors[code] ?? 0) + 1;
            }
          }),
        );
      };
      const step = await session.step({
        rate,
        warmupMs: params.step.warmupMs,
        measureMs: params.logins.measureMs,
        drainMs: params.step.drainMs,
        during: { atMs: params.logins.atMs, run: burst },
      });
      const result = { rate, logins: params.logins.count, loginErrors, loginLatency: distributionOf(latencies), step };
      log(describeStep(`${target.label} with ${params.logins.count} logins`, step));
      log(
        `logins: p99 before ${step.phases?.before.p99.toFixed(1)} ms, during ${step.phases?.during.p99.toFixed(1)} ms ` +
          `(burst ${step.phases?.duringMs.toFixed(0)} ms; login p50 ${result.loginLatency.p50.toFixed(0)} max ${result.loginLatency.max.toFixed(0)} ms)`,
      );
      return result;
    } finally {
      await session.close();
    }
  } finally {
    await database.drop();
  }
}
