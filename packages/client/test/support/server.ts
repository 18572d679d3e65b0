// A real Parley server for the package's tests: the API only (no web app), a fresh SQLite file in a
// temporary directory, 127.0.0.1. It can be stopped and started again on the same port and file, as
// a deployment restarts, and its database read directly to count what was stored.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "@parley/server";

const JWT_SECRET = "client-test-secret-that-is-long-enough-for-hs256-0123456789";
const GENEROUS = { max: 100_000, windowSeconds: 60 };

export interface TestServer {
  readonly baseUrl: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Rows in the message table with this sender and clientMessageId. */
  storedCount(senderId: string, clientMessageId: string): Promise<number>;
  /** Events of the log of one kind in one conversation. */
  eventCount(kind: string, conversationId: string): Promise<number>;
  /** Stops it and deletes its database. */
  dispose(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-client-"));
  const config = {
    host: "127.0.0.1",
    dataDir,
    databaseUrl: `file:${join(dataDir, "db.sqlite")}`,
    jwtSecret: JWT_SECRET,
    webDistDir: null,
    logLevel: "silent" as const,
    shutdownTimeoutMs: 2_000,
    signupRateLimit: { perAddress: GENEROUS, overall: GENEROUS },
  };
  let running: RunningServer | null = await startServer({ ...config, port: 0 });
  const port = running.port;
  const server: TestServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await running?.close();
      running = null;
    },
    async start() {
      running ??= await startServer({ ...config, port });
    },
    async storedCount(senderId, clientMessageId) {
      if (!running) throw new Error("the server is stopped");
      return running.services.db.prisma.message.count({ where: { senderId, clientMessageId } });
    },
    async eventCount(kind, conversationId) {
      if (!running) throw new Error("the server is stopped");
      return running.services.db.prisma.event.count({ where: { kind, conversationId } });
    },
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
