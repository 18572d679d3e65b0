// Scenarios 1 and 3: live delivery under a stepped send rate, Parley and the baseline in the same
// run. 1: many small rooms (1,000 clients in rooms of 10, 10% sending). 3: one room of 500.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { baselineOf, parleyOn, prepareDatabase, type RunContext } from "../context.js";
import type { Provider } from "../databases.js";
import { describeStep, findKnee, type KneeResult, type KneeSearchOptions } from "../knee.js";
import type { StepResult } from "../load.js";
import { newestProfile, summariseProfile, type ProfileSummary } from "../profile.js";
import type { ParleyFeed } from "../protocols.js";
import { Session } from "../session.js";
import { loadPlan, topology, type Target, type Topology } from "../targets.js";

export interface DeliverySpec {
  id: "s1" | "s3";
  provider: Provider;
  instances: number;
  withBaseline: boolean;
  profile: boolean;
  /** What Parley's clients subscribe to (default message.live). */
  feed?: ParleyFeed;
}

export interface DeliveryResult {
  id: "s1" | "s3";
  provider: Provider;
  instances: number;
  clients: number;
  roomSize: number;
  senders: number;
  parley: KneeResult;
  baseline: KneeResult | null;
  /** The baseline run at Parley's knee rate: p99 at equal load. */
  baselineAtParleyKnee: StepResult | null;
  profile: ProfileSummary | null;
  /** Warnings and errors the Parley server logged. */
  serverLog: string[];
}

function layoutOf(context: RunContext, id: "s1" | "s3"): { layout: Topology; roomSize: number; ladder: number[]; bisections: number; confirmRuns: number } {
  const { knee, fanout } = context.params;
  if (id === "s1") return { ...knee, layout: topology(knee.clients, knee.roomSize, knee.senders) };
  return { ...fanout, layout: topology(fanout.members, fanout.members, fanout.senders), roomSize: fanout.members };
}

export async function runDelivery(context: RunContext, spec: DeliverySpec): Promise<DeliveryResult> {
  const { params, log } = context;
  const { layout, roomSize, ladder, bisections, confirmRuns } = layoutOf(context, spec.id);
  const clients = layout.rooms.reduce((n, r) => n + r.length, 0);
  const database = await prepareDatabase(context, spec.provider, `${spec.id}-${spec.provider}-${spec.instances}`, clients, layout.rooms);
  const search: KneeSearchOptions = { ladder, bisections, confirmRuns, ...params.step, p99LimitMs: params.p99LimitMs };
  const warmUp = { rate: ladder[0] ?? 10, ms: params.step.warmupMs * 2 };
  const sessionFor = (target: Target, profileDir?: string) =>
    Session.open({
      target,
      plan: async (deployment) => loadPlan(target, deployment, layout, { users: await database.freshUsers(deployment.endpoints[0] ?? ""), conversationIds: database.conversationIds }),
      warmUp,
      ...(profileDir ? { profileDir } : {}),
    });
  try {
    const parleyTarget = parleyOn(context, database, spec.instances, spec.feed);
    const parleySession = await sessionFor(parleyTarget);
    let parley: KneeResult;
    let serverLog: string[];
    try {
      parley = await findKnee(parleySession, search, log);
      serverLog = parleySession.serverErrors();
    } finally {
      await parleySession.close();
    }
    log(`${parley.label}: knee ${parley.knee} sends/s (${parley.bound})`);

    let baseline: KneeResult | null = null;
    let baselineAtParleyKnee: StepResult | null = null;
    if (spec.withBaseline) {
      const baselineSession = await sessionFor(baselineOf(context));
      try {
        baseline = await findKnee(baselineSession, search, log);
        log(`${baseline.label}: knee ${baseline.knee} sends/s (${baseline.bound})`);
        if (parley.knee > 0) {
          baselineAtParleyKnee = await baselineSession.step({ rate: parley.knee, ...params.step });
          log(describeStep(`${baseline.label} at Parley's knee`, baselineAtParleyKnee));
        }
      } finally {
        await baselineSession.close();
      }
    }

    let profile: ProfileSummary | null = null;
    if (spec.profile && parley.knee > 0) profile = await profileAt(context, parleyTarget, sessionFor, context.profileRate ?? parley.knee, spec.id);
    return { id: spec.id, provider: spec.provider, instances: spec.instances, clients, roomSize, senders: layout.senders.length, parley, baseline, baselineAtParleyKnee, profile, serverLog };
  } finally {
    await database.drop();
  }
}

/** One step at `rate` with the server under `node --cpu-prof`, summarised over the measured window. */
async function profileAt(
  context: RunContext,
  target: Target,
  sessionFor: (target: Target, profileDir?: string) => Promise<Session>,
  rate: number,
  id: string,
): Promise<ProfileSummary | null> {
  const directory = join(context.workDir, `profile-${id}`);
  mkdirSync(directory, { recursive: true });
  const session = await sessionFor(target, directory);
  let step: StepResult;
  try {
    // Longer than a normal step: more samples for the profile.
    step = await session.step({ rate, ...context.params.step, measureMs: context.params.step.measureMs * 3 });
    context.log(describeStep(`${target.label} under --cpu-prof`, step));
  } catch (error) {
    await session.close();
    throw error;
  }
  const exitedAt = await session.close();
  const file = newestProfile(directory);
  if (!file) {
    context.log("no CPU profile was written");
    return null;
  }
  return summariseProfile(file, step.window, exitedAt);
}
