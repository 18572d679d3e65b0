// Starts the real Parley server for a test file: the built app at /, the API at /trpc, a fresh
// SQLite file in a temporary directory, 127.0.0.1 only.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer, type StartOptions } from "@parley/server";

const webDist = fileURLToPath(new URL("../../dist", import.meta.url));
const JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256-0123456789";

export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** Live subscriptions the running server holds right now (0 when stopped). */
  liveSubscriptions(): number;
  /** Stops the server and starts a new one on the same port and database. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its database. */
  dispose(): Promise<void>;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-e2e-"));
  const config = {
    host: "127.0.0.1",
    dataDir,
    databaseUrl: `file:${join(dataDir, "db.sqlite")}`,
    jwtSecret: JWT_SECRET,
    webDistDir: webDist,
    corsOrigins: [],
    logLevel: "silent" as const,
    shutdownTimeoutMs: 2_000,
    // Every browser in these tests signs up from 127.0.0.1.
    signupRateLimit: { perAddress: { max: 100_000, windowSeconds: 60 }, overall: { max: 100_000, windowSeconds: 60 } },
  };
  let running: RunningServer | null = await startServer({ ...config, port: 0 }, options);
  const port = running.port;
  const url = running.url;

  const server: TestServer = {
    url,
    port,
    liveSubscriptions: () => running?.services.hub.subscriptionCount ?? 0,
    async stop() {
      await running?.close();
      running = null;
    },
    async start() {
      running ??= await startServer({ ...config, port }, options);
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
