// What the generator drives: Parley (one instance, or several sharing PostgreSQL and Redis) or the
// raw-ws baseline, each started as pinned processes, and the load plan that fits it.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LoadPlan, RoomPlan } from "./load.js";
import { startBaseline, startParley, type ProcessSample, type ServerProcess } from "./processes.js";
import { baselineProtocol, parleyProtocolOn, type ParleyFeed, type Protocol } from "./protocols.js";
import type { BenchUser } from "./setup.js";

export interface Deployment {
  /** http://host:port of each instance; clients are spread over them. */
  endpoints: string[];
  processes: ServerProcess[];
  /** CPU seconds and RSS summed over the instances. */
  probe(): ProcessSample;
  /** Resolves with when (performance.now) the last instance exited. */
  stop(): Promise<number>;
}

export interface Target {
  label: string;
  protocol: Protocol;
  start(options?: { profileDir?: string }): Promise<Deployment>;
}

function deploymentOf(processes: ServerProcess[]): Deployment {
  return {
    endpoints: processes.map((p) => p.url),
    processes,
    probe: () => {
      const samples = processes.map((p) => p.sample());
      return { cpuSeconds: samples.reduce((s, x) => s + x.cpuSeconds, 0), rssBytes: samples.reduce((s, x) => s + x.rssBytes, 0) };
    },
    stop: async () => Math.max(...(await Promise.all(processes.map((p) => p.stop())))),
  };
}

export function baselineTarget(cpu: number | null): Target {
  return {
    label: "baseline (raw ws)",
    protocol: baselineProtocol,
    start: async () => deploymentOf([await startBaseline(cpu)]),
  };
}

export interface ParleyTargetOptions {
  label: string;
  bundle?: string;
  nodeFlags?: string[];
  databaseUrl: string;
  workDir: string;
  jwtSecret: string;
  cpu: number | null;
  /** More than one instance needs PostgreSQL and Redis. */
  instances?: number;
  redisUrl?: string;
  /** What the clients subscribe to (default message.live, what scenario 1 has always measured). */
  feed?: ParleyFeed;
}

export function parleyTarget(options: ParleyTargetOptions): Target {
  const instances = options.instances ?? 1;
  // A channel of its own, so that nothing else on the same Redis hears (or disturbs) the run.
  const redisChannel = `parley:bench:${randomUUID()}`;
  return {
    label: options.label,
    protocol: parleyProtocolOn(options.feed ?? "message.live"),
    start: async ({ profileDir } = {}) => {
      const processes: ServerProcess[] = [];
      try {
        for (let i = 0; i < instances; i += 1) {
          const dataDir = join(options.workDir, `instance-${i}`);
          mkdirSync(dataDir, { recursive: true });
          processes.push(
            await startParley(
              {
                ...(options.bundle ? { bundle: options.bundle } : {}),
                ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
                databaseUrl: options.databaseUrl,
                dataDir,
                jwtSecret: options.jwtSecret,
                cpu: options.cpu,
                ...(options.redisUrl ? { redisUrl: options.redisUrl, redisChannel } : {}),
                ...(profileDir ? { profileDir } : {}),
              },
              `${options.label} #${i + 1}`,
            ),
          );
        }
      } catch (error) {
        await Promise.all(processes.map((p) => p.stop()));
        throw error;
      }
      return deploymentOf(processes);
    },
  };
}

export interface Topology {
  /** Member indexes (into the user list) of each room. */
  rooms: number[][];
  /** Indexes of the sending users. */
  senders: number[];
}

/** `clients` users in rooms of `roomSize`, `senderCount` of them sending, spread evenly over the rooms. */
export function topology(clients: number, roomSize: number, senderCount: number): Topology {
  const rooms: number[][] = [];
  for (let start = 0; start < clients; start += roomSize) {
    rooms.push(Array.from({ length: Math.min(roomSize, clients - start) }, (_, k) => start + k));
  }
  const senders: number[] = [];
  for (let k = 0; k < Math.min(senderCount, clients); k += 1) {
    const room = rooms[k % rooms.length] ?? [];
    const member = room[Math.floor(k / rooms.length)];
    if (member !== undefined) senders.push(member);
  }
  return { rooms, senders };
}

/**
 * The generator's plan for a target: Parley clients use the users' tokens and the conversations'
 * ids; baseline clients join rooms of the same members. Client i connects to instance i mod n.
 */
export function loadPlan(target: Target, deployment: Deployment, layout: Topology, parley?: { users: BenchUser[]; conversationIds: string[] }): LoadPlan {
  const isParley = target.protocol !== baselineProtocol;
  if (isParley && !parley) throw new Error("a Parley plan needs users and conversations");
  const roomOf = new Map<number, number>();
  const rooms: RoomPlan[] = layout.rooms.map((members, r) => {
    for (const member of members) roomOf.set(member, r);
    return { key: isParley ? (parley?.conversationIds[r] ?? "") : `room-${r}`, members };
  });
  const clientCount = layout.rooms.reduce((n, members) => n + members.length, 0);
  const clients = Array.from({ length: clientCount }, (_, i) => ({
    room: roomOf.get(i) ?? 0,
    endpoint: deployment.endpoints[i % deployment.endpoints.length] ?? "",
    token: isParley ? (parley?.users[i]?.accessToken ?? null) : null,
  }));
  return { protocol: target.protocol, clients, rooms, senders: layout.senders };
}
