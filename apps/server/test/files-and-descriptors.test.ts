// What the process keeps for itself: file descriptors for /healthz, HTTP and the database however
// many sockets are opened; data files only its own user can read; no source maps for anyone.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { defaultMaxConnections, loadConfig } from "../src/config.js";
import { startServer } from "../src/index.js";
import { httpClient, startTestServer, TEST_JWT_SECRET, testLimits, uniqueName } from "./harness.js";

const bundle = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** The built server, started by bash so that `shell` (a ulimit, say) applies to it first. */
function run(env: NodeJS.ProcessEnv, shell = ""): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = "";
  const command = `${shell}${shell ? "; " : ""}exec "${process.execPath}" "${bundle}"`;
  const child = spawn("bash", ["-c", command], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function listeningUrl(output: () => string, timeoutMs = 15_000): Promise<string> {
  return vi.waitFor(
    () => {
      const match = /"url":"([^"]+)"[^\n]*"msg":"listening"/.exec(output());
      if (!match?.[1]) throw new Error(`the server did not start; output so far:\n${output()}`);
      return match[1];
    },
    { timeout: timeoutMs, interval: 25 },
  );
}

/** Opens a WebSocket and says how it went: "open", the refusing HTTP status, or "failed". */
function openSocket(url: string, timeoutMs = 5_000): Promise<{ outcome: string; socket: WebSocket }> {
  const socket = new WebSocket(url.replace(/^http/, "ws") + "/trpc");
  return new Promise((resolve) => {
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve({ outcome, socket });
    };
    const timer = setTimeout(() => done("failed"), timeoutMs);
    socket.once("open", () => done("open"));
    socket.once("unexpected-response", (_req, res) => {
      res.resume();
      done(String(res.statusCode));
    });
    socket.once("error", () => done("failed"));
  });
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe.skipIf(!existsSync(bundle))(`the built server and its descriptors and files${existsSync(bundle) ? "" : " (skipped: run pnpm build first)"}`, () => {
  it("under a 256 file-descriptor limit, WebSockets past the cap are refused with 503 and /healthz and signup keep working", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-fd-"));
    const server = run(
      // The per-address cap and the authentication deadline would stop these sockets sooner; this is about descriptors.
      { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "", WS_MAX_CONNECTIONS_PER_ADDRESS: "100000", WS_AUTH_TIMEOUT_MS: "120000" },
      "ulimit -n 256",
    );
    const sockets: WebSocket[] = [];
    try {
      const url = await listeningUrl(server.output);
      // In groups of 16: a refused upgrade's descriptor is freed before the next group arrives.
      const attempts: { outcome: string; socket: WebSocket }[] = [];
      for (let group = 0; group < 20; group += 1) {
        const opened = await Promise.all(Array.from({ length: 16 }, () => openSocket(url)));
        attempts.push(...opened);
        sockets.push(...opened.map((a) => a.socket));
      }
      const outcomes = new Map<string, number>();
      for (const { outcome } of attempts) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const user = await httpClient({ url }).auth.signup.mutate({ username: uniqueName(), password: "correct horse battery" });
      expect(user.id).toEqual(expect.any(String));
      // 256 descriptors leave 192 for WebSockets after the reserve of 64.
      expect(Object.fromEntries(outcomes)).toEqual({ open: 192, 503: 128 });
    } finally {
      for (const socket of sockets) socket.terminate();
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }, 60_000);

  it("creates DATA_DIR 0700 and parley.db, its -wal and -shm and jwt-secret 0600", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "parley-modes-")), "data");
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "" }, "umask 022");
    try {
      const url = await listeningUrl(server.output);
      await httpClient({ url }).auth.signup.mutate({ username: uniqueName(), password: "correct horse battery" });
      expect(mode(dataDir)).toBe("700");
      for (const file of ["parley.db", "parley.db-wal", "parley.db-shm", "jwt-secret"]) expect([file, mode(join(dataDir, file))]).toEqual([file, "600"]);
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }, 30_000);

  it("tightens a DATA_DIR, database and jwt-secret that others could read, and says so", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "parley-modes-")), "data");
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, "jwt-secret"), `${"s".repeat(48)}\n`, { mode: 0o644 });
    writeFileSync(join(dataDir, "parley.db"), "", { mode: 0o644 });
    chmodSync(join(dataDir, "jwt-secret"), 0o644);
    chmodSync(join(dataDir, "parley.db"), 0o644);
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "" });
    try {
      await listeningUrl(server.output);
      expect(mode(dataDir)).toBe("700");
      expect(mode(join(dataDir, "jwt-secret"))).toBe("600");
      expect(mode(join(dataDir, "parley.db"))).toBe("600");
      expect(server.output()).toMatch(/jwt-secret was readable by others/);
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }, 30_000);
});

describe("connection caps in the environment", () => {
  const env = { JWT_SECRET: "s".repeat(32) };
  it("reads the WebSocket caps, with the documented defaults", () => {
    const defaults = loadConfig(env, mkdtempSync(join(tmpdir(), "parley-config-"))).config;
    expect(defaults.wsConnections).toEqual({ maxConnections: defaultMaxConnections(), maxConnectionsPerUser: 20, maxConnectionsPerAddress: 100, authTimeoutMs: 10_000 });
    expect(defaults.subscriptionsPerConnection).toBe(10);
    const set = loadConfig(
      { ...env, WS_MAX_CONNECTIONS: "500", WS_MAX_CONNECTIONS_PER_USER: "3", WS_MAX_CONNECTIONS_PER_ADDRESS: "40", WS_AUTH_TIMEOUT_MS: "2000", WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: "2" },
      mkdtempSync(join(tmpdir(), "parley-config-")),
    ).config;
    expect(set.wsConnections).toEqual({ maxConnections: 500, maxConnectionsPerUser: 3, maxConnectionsPerAddress: 40, authTimeoutMs: 2_000 });
    expect(set.subscriptionsPerConnection).toBe(2);
  });

  it("refuses a cap that is not a positive whole number, naming it", () => {
    for (const [name, value] of [["WS_MAX_CONNECTIONS", "0"], ["WS_MAX_CONNECTIONS_PER_USER", "-1"], ["WS_MAX_CONNECTIONS_PER_ADDRESS", "many"], ["WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", "1.5"]] as const) {
      expect(() => loadConfig({ ...env, [name]: value }, mkdtempSync(join(tmpdir(), "parley-config-")))).toThrow(new RegExp(`${name}`));
    }
  });
});

describe("the WebSocket cap follows the descriptor limit", () => {
  it("leaves a reserve of a quarter of the limit, at least 64 and at most 1,024 descriptors", () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-limits-"));
    const limitsFile = (soft: string) => {
      const path = join(dir, `limits-${soft}`);
      writeFileSync(path, `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 ${soft}                 files     \n`);
      return path;
    };
    expect(defaultMaxConnections(limitsFile("256"))).toBe(192);
    expect(defaultMaxConnections(limitsFile("1024"))).toBe(768);
    expect(defaultMaxConnections(limitsFile("1048576"))).toBe(1_048_576 - 1_024);
    expect(defaultMaxConnections(limitsFile("unlimited"))).toBe(1_000);
    expect(defaultMaxConnections(join(dir, "missing"))).toBe(1_000);
  });
});

describe("source maps", () => {
  it("a .map file in the web app's folder is not served: 404", async () => {
    const web = mkdtempSync(join(tmpdir(), "parley-web-"));
    mkdirSync(join(web, "assets"));
    writeFileSync(join(web, "index.html"), "<!doctype html><title>Parley</title>");
    writeFileSync(join(web, "assets", "app.js"), "console.log(1)");
    writeFileSync(join(web, "assets", "app.js.map"), '{"version":3,"sources":["secret.ts"]}');
    // A fresh migrated database, then the server again with the web app's folder.
    const plain = await startTestServer("sqlite", { api: testLimits() });
    await plain.close();
    const app = await startServer({ port: 0, host: "127.0.0.1", databaseUrl: plain.database.url, jwtSecret: TEST_JWT_SECRET, webDistDir: web, logLevel: "silent" });
    try {
      for (const path of ["/assets/app.js.map", "/assets/APP.JS.MAP", "/assets/app.js.map?x=1", "/assets/app%2Ejs%2Emap", "/nothing.map"]) {
        const response = await fetch(`${app.url}${path}`);
        expect([path, response.status]).toEqual([path, 404]);
        expect(await response.text()).not.toContain("secret.ts");
      }
      expect((await fetch(`${app.url}/assets/app.js`)).status).toBe(200);
    } finally {
      await app.close();
      await plain.database.drop();
    }
  });
});
