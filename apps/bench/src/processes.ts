// The servers under test run as processes of their own, pinned to one core, and are measured from
// the outside through /proc: CPU time (utime + stime) and resident memory.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export const benchDir = fileURLToPath(new URL("..", import.meta.url));
export const serverBundle = fileURLToPath(new URL("../../server/dist/main.js", import.meta.url));
const baselineEntry = fileURLToPath(new URL("./baseline-server.ts", import.meta.url));
const uploadBaselineEntry = fileURLToPath(new URL("./upload-baseline-server.ts", import.meta.url));

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const KEPT_LOG_LINES = 50;

export interface ProcessSample {
  /** CPU seconds used so far (user + system). */
  cpuSeconds: number;
  rssBytes: number;
}

let clockTicks: number | null = null;

function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time and RSS of a live process, read from /proc (Linux). */
export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: rssKb * 1024 };
}

/**
 * CPU seconds all processes of the machine have run (user, nice and system time) since boot:
 * comparable with the utime + stime of single processes. Interrupt time is left out.
 */
export function machineBusyCpuSeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/).slice(1, 4).map(Number) ?? [];
  return fields.reduce((sum, value) => sum + value, 0) / ticksPerSecond();
}

/** The one CPU this process may run on (it is pinned with taskset), or null when it may run on more. */
export function soleCpu(): number | null {
  try {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "";
    return /^\d+$/.test(list) ? Number(list) : null;
  } catch {
    return null;
  }
}

/**
 * Seconds CPU `cpu` has spent in hard and soft interrupts since boot (/proc/stat). The kernel's
 * TCP work that a socket call sets off - acknowledgements, the loopback delivery of what was
 * written - runs there as soft interrupts, counted in no process's CPU time.
 */
export function cpuInterruptSeconds(cpu: number): number {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${cpu} `));
  const fields = line?.trim().split(/\s+/) ?? [];
  return (Number(fields[6] ?? 0) + Number(fields[7] ?? 0)) / ticksPerSecond();
}

/** The machine's PostgreSQL and Redis processes: part of Parley's deployment, though not pinned. */
const SERVICE_COMMANDS = new Set(["postgres", "redis-server"]);

/** CPU seconds used so far by the processes of the database and Redis servers on this machine. */
export function servicesCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!SERVICE_COMMANDS.has(command)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

export function canPin(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface LaunchOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  /**
   * How to know it is up: its "listening" log line, or (when it logs only warnings) a URL that
   * answers 200 - then it must be told a free port to listen on.
   */
  readiness: { logLine: true } | { url: string };
  /** Pin to this CPU with taskset; null runs unpinned. */
  cpu: number | null;
  cwd?: string;
}

/**
 * Every server this process started and has not seen exit: on an interrupted or timed-out run,
 * stopAllServers() ends them so that none outlives the bench.
 */
const started = new Set<ServerProcess>();

export async function stopAllServers(): Promise<void> {
  await Promise.all([...started].map((server) => server.stop()));
}

/** A server process, started and watched from the outside. */
export class ServerProcess {
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;
  private exitedAt = 0;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
    /** Warnings, errors and anything not JSON that the process printed (the last few). */
    readonly errorLines: string[],
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      child.once("exit", () => resolve());
    });
  }

  static async start(options: LaunchOptions): Promise<ServerProcess> {
    const command = options.cpu === null ? process.execPath : "taskset";
    const args = options.cpu === null ? options.args : ["-c", String(options.cpu), process.execPath, ...options.args];
    const child = spawn(command, args, {
      cwd: options.cwd ?? benchDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const errorLines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${options.name} did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(error);
      };
      const onLine = (line: string) => {
        if (/"level":"(warn|error)"/.test(line) || !line.startsWith("{")) {
          errorLines.push(line);
          if (errorLines.length > KEPT_LOG_LINES) errorLines.shift();
        }
        const match = /"msg":"listening","url":"([^"]+)"/.exec(line);
        if (match?.[1] && "logLine" in options.readiness) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      if ("url" in options.readiness) {
        const probeUrl = options.readiness.url;
        void waitForOk(probeUrl, () => child.exitCode === null && child.signalCode === null, START_TIMEOUT_MS).then((ok) => {
          if (!ok) return;
          clearTimeout(timer);
          resolve(new URL(probeUrl).origin);
        });
      }
      const reader = (chunk: Buffer) => {
        output += chunk.toString();
        let newline = output.indexOf("\n");
        while (newline >= 0) {
          onLine(output.slice(0, newline));
          output = output.slice(newline + 1);
          newline = output.indexOf("\n");
        }
      };
      child.stdout?.on("data", reader);
      child.stderr?.on("data", reader);
      child.once("exit", (code) => fail(new Error(`${options.name} exited with ${code} before listening:\n${errorLines.join("\n")}${output}`)));
    });
    const server = new ServerProcess(options.name, child, url, errorLines);
    started.add(server);
    child.once("exit", (code) => {
      server.exitCode = code;
      server.exitedAt = performance.now();
      started.delete(server);
    });
    return server;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  sample(): ProcessSample {
    return sampleProcess(this.pid);
  }

  /** SIGTERM, then SIGKILL if it has not exited in time. Resolves with the time (performance.now) it exited. */
  async stop(): Promise<number> {
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exitedAt;
  }
}

async function waitForOk(url: string, alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** A port nothing listens on right now (there is a small window in which another process could take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ParleyLaunch {
  /** The built server to run; defaults to this checkout's apps/server/dist/main.js. */
  bundle?: string;
  /** Extra node flags, before the bundle. */
  nodeFlags?: string[];
  databaseUrl: string;
  dataDir: string;
  jwtSecret: string;
  cpu: number | null;
  redisUrl?: string;
  redisChannel?: string;
  /** Write a V8 CPU profile into this directory when the process exits. */
  profileDir?: string;
}

export async function startParley(options: ParleyLaunch, name = "parley"): Promise<ServerProcess> {
  const bundle = options.bundle ?? serverBundle;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build the server first (pnpm --filter @parley/server build)`);
  const profile = options.profileDir ? ["--cpu-prof", "--cpu-prof-dir", options.profileDir] : [];
  // At LOG_LEVEL=warn the server does not print its "listening" line, so it gets a port chosen here.
  const port = await freePort();
  return ServerProcess.start({
    name,
    args: [...(options.nodeFlags ?? []), ...profile, bundle],
    cpu: options.cpu,
    readiness: { url: `http://127.0.0.1:${port}/healthz` },
    env: {
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: options.dataDir,
      JWT_SECRET: options.jwtSecret,
      WEB_DIST_DIR: "",
      // "info" writes a line per request.
      LOG_LEVEL: "warn",
      // A tenth of the clients send at up to hundreds of messages per second each: far over the
      // per-user limits that protect a real deployment from one abusive client.
      MESSAGE_RATE_LIMIT: "9999999/1s",
      MESSAGE_CHANGE_RATE_LIMIT: "9999999/1s",
      WS_FRAME_RATE_LIMIT: "999999/s,9999999",
      // Set-up signs thousands of users up from one address.
      SIGNUP_RATE_LIMIT: "9999999/1s",
      SIGNUP_RATE_LIMIT_TOTAL: "9999999/1s",
      // Every simulated client connects from 127.0.0.1: up to 5,000 connections from one address.
      WS_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
      // The upload scenario's users upload in round after round.
      UPLOAD_RATE_LIMIT: "9999999/1s",
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl, REDIS_CHANNEL: options.redisChannel ?? "parley:bench" } : {}),
    },
  });
}

export function startBaseline(cpu: number | null): Promise<ServerProcess> {
  // `--import tsx` resolves from the working directory, which is apps/bench.
  return ServerProcess.start({
    name: "baseline",
    args: ["--import", "tsx", baselineEntry],
    cpu,
    readiness: { logLine: true },
    env: { PORT: "0", HOST: "127.0.0.1" },
  });
}

/** The upload scenario's baseline: streams each POST /upload body into a file under `dir`. */
export function startUploadBaseline(cpu: number | null, dir: string): Promise<ServerProcess> {
  return ServerProcess.start({
    name: "upload baseline",
    args: ["--import", "tsx", uploadBaselineEntry],
    cpu,
    readiness: { logLine: true },
    env: { PORT: "0", HOST: "127.0.0.1", UPLOAD_DIR: dir },
  });
}
