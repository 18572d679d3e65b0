// Scenario "cpu": server CPU per delivery at fixed rates, scenario 1's rooms (or --room-size), for Parley, the bare
// `ws` baseline and (with --against) another Parley build, their steps interleaved: every target is
// connected at once and each round runs every rate on every target in turn (rotating who goes
// first), so a machine whose speed drifts, or that other work disturbs now and then, disturbs all
// of them alike. The answer is a median over the rounds, with its range.
import { openDatabase } from "@parley/db";
import { baselineOf, parleyOn, prepareDatabase, type PreparedDatabase, type RunContext } from "../context.js";
import { describeStep } from "../knee.js";
import type { StepResult } from "../load.js";
import type { Provider } from "../databases.js";
import { Session } from "../session.js";
import { loadPlan, parleyTarget, topology, type Target } from "../targets.js";

export interface CpuSpec {
  rates: readonly number[];
  rounds: number;
  /** Members per room (scenario 1's, 10, unless --room-size says otherwise); clients and senders stay scenario 1's. */
  roomSize?: number;
  /** What the build under test is called in the results. */
  label: string;
  provider: Provider;
  /**
   * What to measure against in the same run: another Parley server bundle (the build before a
   * change), or this build on a database without its search index (the index's cost alone).
   */
  against: { kind: "build"; bundle: string; label: string } | { kind: "no-search-index" } | null;
}

/**
 * What takes the search index out of a database: on SQLite the triggers that change it and the
 * indexer's work (its position set beyond any message, so nothing is ever pending), on PostgreSQL
 * the GIN index.
 */
const DROP_SEARCH_INDEX: Record<Provider, string[]> = {
  sqlite: ['DROP TRIGGER "Message_search_update"', 'DROP TRIGGER "Message_search_delete"', `UPDATE "MessageSearchState" SET "indexedThroughId" = ${2n ** 62n}`],
  postgresql: ['DROP INDEX "Message_search_idx"'],
};

export interface CpuCell {
  rate: number;
  /** Server CPU per delivery, microseconds, one value per round. */
  usPerDelivery: number[];
  /** Interrupt time on the servers' core per delivery, microseconds, one value per round (0 unpinned). */
  interruptUsPerDelivery: number[];
  /** PostgreSQL's and Redis' processes' CPU per delivery, microseconds, one value per round. */
  servicesUsPerDelivery: number[];
  /** p99 end-to-end latency, ms, one value per round. */
  p99Ms: number[];
  /** Lost or duplicated deliveries, all rounds. */
  lost: number;
  duplicates: number;
  /** Other processes' CPU (cores), the largest of the rounds. */
  otherCpuMax: number;
}

export interface CpuTargetResult {
  label: string;
  baseline: boolean;
  cells: CpuCell[];
}

export interface CpuResult {
  provider: Provider;
  clients: number;
  roomSize: number;
  senders: number;
  rounds: number;
  targets: CpuTargetResult[];
}

export async function runCpu(context: RunContext, spec: CpuSpec): Promise<CpuResult> {
  const { params, log } = context;
  const { knee } = params;
  const roomSize = spec.roomSize ?? knee.roomSize;
  const layout = topology(knee.clients, roomSize, knee.senders);
  const clients = layout.rooms.reduce((n, r) => n + r.length, 0);
  // Each Parley build gets a database of its own: two servers must not share one SQLite file.
  const databases: PreparedDatabase[] = [];
  const sessions: { session: Session; result: CpuTargetResult }[] = [];
  try {
    const open = async (target: Target, database: PreparedDatabase, baseline: boolean) => {
      const session = await Session.open({
        target,
        plan: async (deployment) => loadPlan(target, deployment, layout, { users: await database.freshUsers(deployment.endpoints[0] ?? ""), conversationIds: database.conversationIds }),
        warmUp: { rate: spec.rates[0] ?? 100, ms: params.step.warmupMs * 2 },
      });
      sessions.push({ session, result: { label: target.label, baseline, cells: spec.rates.map((rate) => ({ rate, usPerDelivery: [], interruptUsPerDelivery: [], servicesUsPerDelivery: [], p99Ms: [], lost: 0, duplicates: 0, otherCpuMax: 0 })) } });
    };
    const own = await prepareDatabase(context, spec.provider, `cpu-${spec.provider}`, clients, layout.rooms);
    databases.push(own);
    const ownTarget = parleyOn(context, own);
    await open({ ...ownTarget, label: `${ownTarget.label}, ${spec.label}` }, own, false);
    if (spec.against) {
      // Another build may not know this one's newest migrations (it refuses to start on them): its
      // database is made from a template of its own, by it.
      const otherContext = spec.against.kind === "build" ? { ...context, serverBundle: spec.against.bundle, templates: new Map(), templateName: "template-against" } : context;
      const other = await prepareDatabase(otherContext, spec.provider, `cpu-${spec.provider}-against`, clients, layout.rooms);
      databases.push(other);
      if (spec.against.kind === "no-search-index") {
        const db = await openDatabase(other.url);
        try {
          for (const statement of DROP_SEARCH_INDEX[spec.provider]) await db.prisma.$executeRawUnsafe(statement);
        } finally {
          await db.close();
        }
      }
      const target = parleyTarget({
        label: spec.against.kind === "build" ? `${ownTarget.label}, ${spec.against.label}` : `${ownTarget.label}, ${spec.label} without the search index`,
        bundle: spec.against.kind === "build" ? spec.against.bundle : context.serverBundle,
        nodeFlags: context.serverNodeFlags,
        databaseUrl: other.url,
        workDir: context.workDir,
        jwtSecret: context.jwtSecret,
        cpu: context.serverCpu,
        instances: 1,
        feed: "message.live",
      });
      await open(target, other, false);
    }
    await open(baselineOf(context), own, true);

    for (let round = 0; round < spec.rounds; round++) {
      for (const [r, rate] of spec.rates.entries()) {
        for (let k = 0; k < sessions.length; k++) {
          const { session, result } = sessions[(round + k) % sessions.length] as (typeof sessions)[number];
          // At most a few seconds: other work is recorded with the step, and the rounds' median absorbs it.
          await session.waitForQuiet(undefined, 3_000);
          const step: StepResult = await session.step({ rate, ...params.step, serverCore: context.serverCpu });
          log(describeStep(`${result.label} [round ${round + 1}]`, step));
          const cell = result.cells[r] as CpuCell;
          cell.usPerDelivery.push(step.deliveredPerSecond > 0 ? (step.serverCpu * 1e6) / step.deliveredPerSecond : Number.NaN);
          cell.interruptUsPerDelivery.push(step.deliveredPerSecond > 0 ? (step.serverInterrupts * 1e6) / step.deliveredPerSecond : Number.NaN);
          cell.servicesUsPerDelivery.push(step.deliveredPerSecond > 0 ? (step.servicesCpu * 1e6) / step.deliveredPerSecond : Number.NaN);
          cell.p99Ms.push(step.latency.p99);
          cell.lost += step.lost;
          cell.duplicates += step.duplicates;
          cell.otherCpuMax = Math.max(cell.otherCpuMax, step.otherCpu);
        }
      }
    }
    return { provider: spec.provider, clients, roomSize, senders: layout.senders.length, rounds: spec.rounds, targets: sessions.map((s) => s.result) };
  } finally {
    for (const { session } of sessions) await session.close();
    for (const database of databases) await database.drop();
  }
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
