import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, onTestFinished } from "vitest";
import type { PrismaClient } from "../src/client.js";
import type { Provider } from "../src/provider.js";

export const packageRoot = join(import.meta.dirname, "..");

/** A new, empty temporary directory, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-db-test-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The URL of a SQLite file that does not exist yet, in a directory removed after the test. */
export function newSqliteUrl(): string {
  return `file:${join(tempDir(), "test.db")}`;
}

export interface TestProvider {
  name: Provider;
  /** PostgreSQL without TEST_DATABASE_URL: the suite's tests are skipped (a warning says why). */
  skip: boolean;
  /** A new, empty database of this provider (dropped after the file's tests). */
  url(): Promise<string>;
}

/**
 * The providers a file's tests run on: SQLite always; PostgreSQL on new databases of
 * TEST_DATABASE_URL's server, or skipped with a warning naming `what` without it. Call at the top
 * of a test file: it registers the hooks that connect to the server and drop the databases.
 */
export function testProviders(what: string): TestProvider[] {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) console.warn(`TEST_DATABASE_URL is not set: the PostgreSQL half of the ${what} tests is skipped`);
  let admin: pg.Client | null = null;
  const created: string[] = [];
  beforeAll(async () => {
    if (!serverUrl) return;
    admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
  });
  afterAll(async () => {
    for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.end();
  });
  return [
    { name: "sqlite", skip: false, url: async () => newSqliteUrl() },
    {
      name: "postgresql",
      skip: !serverUrl,
      async url() {
        const name = `parley_db_test_${randomBytes(6).toString("hex")}`;
        await admin?.query(`CREATE DATABASE "${name}"`);
        created.push(name);
        const url = new URL(serverUrl ?? "");
        url.pathname = `/${name}`;
        return url.toString();
      },
    },
  ];
}

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file of this package in its own Node.js process (through tsx). */
export async function runScript(path: string, args: string[] = [], env: Record<string, string> = {}): Promise<ScriptResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(packageRoot, path), ...args], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** A user in a conversation, for tests that write messages. */
export async function seedConversation(prisma: PrismaClient): Promise<{ userId: string; conversationId: string }> {
  // In SQL, naming only the columns the first migration made: tests run it against older schemas,
  // where the client's own inserts would name columns that later migrations add.
  const userId = `user-${randomUUID()}`;
  const conversationId = `conversation-${randomUUID()}`;
  await prisma.$executeRaw`INSERT INTO "User" ("id", "username", "passwordHash") VALUES (${userId}, ${userId}, ${"x"})`;
  await prisma.$executeRaw`INSERT INTO "Conversation" ("id", "title") VALUES (${conversationId}, ${"test"})`;
  await prisma.$executeRaw`INSERT INTO "ConversationMember" ("conversationId", "userId") VALUES (${conversationId}, ${userId})`;
  return { userId, conversationId };
}

/** Writes `count` messages at once and returns their ids. */
export async function insertMessagesConcurrently(prisma: PrismaClient, count: number): Promise<bigint[]> {
  const { userId, conversationId } = await seedConversation(prisma);
  const messages = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      prisma.message.create({ data: { conversationId, senderId: userId, content: `message ${i}`, clientMessageId: `client-${i}` } }),
    ),
  );
  return messages.map((m) => m.id);
}
