// Backup and restore as an operator runs them: the built CLI (dist/cli.js) in its own process,
// against a server taking a burst of sends from real clients, a backup restored into a new folder
// and a server started on it; and PostgreSQL's pg_dump / pg_restore procedure from the README.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { TRPCClientError } from "@trpc/client";
import {
  clientMessageId,
  collectLive,
  collectSync,
  createTestDatabase,
  httpClient,
  perTestCleanup,
  postgresUrl,
  signUpAndLogIn,
  startTestServer,
  TEST_JWT_SECRET,
  testLimits,
  waitForSubscribers,
  type Received,
  type SignedIn,
  type SyncReceived,
  type TestDatabase,
  type TestServer,
} from "./harness.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const built = existsSync(cli);
const { cleanups, live } = perTestCleanup();

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});
function folder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `parley-${name}-`));
  folders.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in its own process with only the given environment, as an operator would. */
function parley(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A deployment's DATA_DIR as `pnpm start` leaves it: the database, the generated secret, files/. */
function sqliteDeployment(dataDir: string): { database: TestDatabase; files: { dir: string } } {
  writeFileSync(join(dataDir, "jwt-secret"), `${TEST_JWT_SECRET}\n`, { mode: 0o600 });
  return { database: { url: `file:${join(dataDir, "parley.db")}`, drop: async () => undefined }, files: { dir: join(dataDir, "files") } };
}

async function uploadFile(server: TestServer, user: SignedIn, conversationId: string, content: Buffer): Promise<string> {
  const response = await fetch(`${server.url}/files?conversationId=${conversationId}&name=notes.bin`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": "application/octet-stream" },
    body: content,
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function download(server: TestServer, user: SignedIn, attachmentId: string): Promise<Buffer> {
  const [url] = await user.api.file.urls.query({ attachmentIds: [attachmentId] });
  if (!url) throw new Error("no URL for the attachment");
  const response = await fetch(new URL(url.url, server.url));
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** The tRPC code a subscription ended with, once it ended with an error. */
async function refusal(received: Received | SyncReceived): Promise<string> {
  await vi.waitFor(() => expect(received.errors.length).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });
  const [error] = received.errors;
  return error instanceof TRPCClientError ? ((error.data as { code?: string } | undefined)?.code ?? "UNKNOWN") : String(error);
}

function listing(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : [];
}

/** The same user (same tokens) talking to another server: the restored one. */
const on = (server: TestServer, user: SignedIn): SignedIn => ({ ...user, api: httpClient(server, () => user.accessToken) });

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : 1);

describe.skipIf(!built)(`parley backup and restore on SQLite${built ? "" : " (skipped: run pnpm build first)"}`, () => {
  it("a backup taken during a burst of sends restores every message acknowledged before it began, and clients from after it are told to resync", async () => {
    const dataDir = folder("live");
    const deployment = sqliteDeployment(dataDir);
    // The burst is not about rate limits: on a loaded machine a slow backup let the senders reach the
    // default 120 messages per 10 s and stall.
    const server = await startTestServer("sqlite", { ...deployment, api: testLimits() });
    cleanups.push(() => server.close());
    let [ann, bob] = [await signUpAndLogIn(server), await signUpAndLogIn(server)];
    const { id: conversationId } = await ann.api.conversation.create.mutate({ title: "burst", memberIds: [bob.id] });
    const content = Buffer.from(`attached ${randomUUID()}`);
    const attachmentId = await uploadFile(server, ann, conversationId, content);
    await ann.api.message.send.mutate({ conversationId, content: "with a file", clientMessageId: clientMessageId(), attachmentIds: [attachmentId] });

    const bobLive = live(server, bob);
    const synced = collectSync(bobLive);
    const messages = collectLive(bobLive);
    await waitForSubscribers(server, 2);

    // Two senders, each sending one message after the other, until told to stop (bounded either way).
    const acknowledged: string[] = [];
    let stop = false;
    const burst = [ann, bob].map(async (sender) => {
      for (let i = 0; i < 400 && !stop; i += 1) {
        const sent = await sender.api.message.send.mutate({ conversationId, content: `burst ${sender.username} ${i}`, clientMessageId: clientMessageId() });
        acknowledged.push(sent.id);
      }
    });
    await vi.waitFor(() => expect(acknowledged.length).toBeGreaterThanOrEqual(30), { timeout: 20_000, interval: 10 });
    const acknowledgedBefore = [...acknowledged];
    const backupFile = join(folder("backups"), "parley.backup");
    const backup = await parley(["backup", backupFile], { DATA_DIR: dataDir });
    const sentDuringBackup = acknowledged.length - acknowledgedBefore.length;
    await vi.waitFor(() => expect(acknowledged.length).toBeGreaterThanOrEqual(acknowledgedBefore.length + sentDuringBackup + 20), { timeout: 20_000, interval: 10 });
    stop = true;
    await Promise.all(burst);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/files: 1\n/);
    expect(backup.stdout).toMatch(/JWT secret: included/);

    // Bob's clients saw everything, so they hold positions past the backup point.
    await synced.waitFor(acknowledged.length, 10_000);
    await messages.waitFor(acknowledged.length, 10_000);
    const syncPosition = synced.stored.at(-1)?.id ?? "";
    const livePosition = messages.ids.at(-1) ?? "";
    const everyIdHandedOut = [...synced.stored.map((e) => e.id), ...acknowledged].sort(byId).at(-1) ?? "";
    await server.close();

    // Restore into a new DATA_DIR (it need not exist yet).
    const restoredDir = join(folder("restored"), "data");
    const restore = await parley(["restore", backupFile], { DATA_DIR: restoredDir });
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    const manifest = JSON.parse(execTar(backupFile, "parley-backup.json")) as { latestEventId: string };
    expect(BigInt(manifest.latestEventId)).toBeLessThan(BigInt(syncPosition));
    expect(readFileSync(join(restoredDir, "jwt-secret"), "utf8")).toBe(`${TEST_JWT_SECRET}\n`);
    const file = new Database(join(restoredDir, "parley.db"), { readonly: true });
    try {
      expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
      const stored = new Set(file.prepare<[], { id: bigint }>(`SELECT "id" FROM "Message"`).safeIntegers().all().map((row) => row.id.toString()));
      expect(acknowledgedBefore.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      file.close();
    }

    const restored = await startTestServer("sqlite", { database: { url: `file:${join(restoredDir, "parley.db")}`, drop: async () => undefined }, files: { dir: join(restoredDir, "files") } });
    cleanups.push(() => restored.close());
    [ann, bob] = [on(restored, ann), on(restored, bob)];
    // The file came back with its message.
    expect(await download(restored, bob, attachmentId)).toEqual(content);
    const lastBefore = acknowledgedBefore.at(-1) ?? "";
    const page = await bob.api.message.list.query({ conversationId, around: lastBefore, limit: 2 });
    expect(page.items.map((m) => m.id)).toContain(lastBefore);

    // Positions past the backup point name events the restored log never had: resync, not a silent gap.
    const resumeSync = (position: string) => collectSync(live(restored, bob), position);
    const resumeLive = (position: string) => collectLive(live(restored, bob), position);
    expect(await refusal(resumeSync(syncPosition))).toBe("PRECONDITION_FAILED");
    expect(await refusal(resumeLive(livePosition))).toBe("PRECONDITION_FAILED");
    // So are positions from before it: what a client shows may include what came after the backup.
    expect(await refusal(resumeSync(acknowledgedBefore[0] ?? ""))).toBe("PRECONDITION_FAILED");

    // New events never reuse an id handed out before the restore...
    const fresh = collectSync(live(restored, bob));
    await waitForSubscribers(restored, 1);
    const first = await ann.api.message.send.mutate({ conversationId, content: "after the restore", clientMessageId: clientMessageId() });
    expect(BigInt(first.id)).toBeGreaterThan(BigInt(everyIdHandedOut));
    const [event] = await fresh.waitFor(1);
    expect(event?.event).toMatchObject({ type: "message.created", message: { id: first.id, content: "after the restore" } });
    // ...so a position from before it stays refused once the log has grown past it.
    expect(await refusal(resumeSync(syncPosition))).toBe("PRECONDITION_FAILED");
    expect(await refusal(resumeLive(livePosition))).toBe("PRECONDITION_FAILED");
    // A position of the restored log resumes as always.
    const second = await bob.api.message.send.mutate({ conversationId, content: "and another", clientMessageId: clientMessageId() });
    const resumed = resumeSync(event?.id ?? "");
    const [next] = await resumed.waitFor(1);
    expect(next?.event).toMatchObject({ type: "message.created", message: { id: second.id } });
  }, 120_000);
});

/** One entry of a tar file, read with the system's tar: the backup is a standard archive. */
function execTar(archive: string, entry: string): string {
  const result = spawnSync("tar", ["-xOf", archive, entry], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
  return result.stdout;
}


describe.skipIf(!built)(`parley restore refuses what it cannot restore whole${built ? "" : " (skipped: run pnpm build first)"}`, () => {
  /** A small backup of a deployment with one user, one message and one file. */
  let backupFile = "";
  async function aBackup(): Promise<string> {
    if (backupFile) return backupFile;
    const dataDir = folder("small");
    const server = await startTestServer("sqlite", sqliteDeployment(dataDir));
    try {
      const [ann, bob] = [await signUpAndLogIn(server), await signUpAndLogIn(server)];
      const { id: conversationId } = await ann.api.conversation.create.mutate({ memberIds: [bob.id] });
      const attachmentId = await uploadFile(server, ann, conversationId, Buffer.alloc(20_000, 7));
      await ann.api.message.send.mutate({ conversationId, content: "kept", clientMessageId: clientMessageId(), attachmentIds: [attachmentId] });
      const file = join(folder("backups"), "small.backup");
      const run = await parley(["backup", file], { DATA_DIR: dataDir });
      expect(run.code, run.stderr).toBe(0);
      backupFile = file;
      return file;
    } finally {
      await server.close();
    }
  }

  /** Restores `file` into a DATA_DIR and checks that the refusal says `reason` and left the folder as it was. */
  async function refusedRestore(file: string, dataDir: string, reason: RegExp): Promise<void> {
    const before = listing(dataDir);
    const run = await parley(["restore", file], { DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(reason);
    // One line for the operator, no stack.
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(listing(dataDir)).toEqual(before);
  }

  it("refuses a DATA_DIR that is not empty, naming what is there, and changes nothing", async () => {
    const file = await aBackup();
    const dataDir = folder("occupied");
    writeFileSync(join(dataDir, "notes.txt"), "mine");
    await refusedRestore(file, dataDir, /DATA_DIR \(.*\) is not empty \(notes\.txt\): restore only into an empty folder/);
    expect(readFileSync(join(dataDir, "notes.txt"), "utf8")).toBe("mine");
    // An existing database elsewhere (DATABASE_URL outside DATA_DIR) is refused too.
    const elsewhere = folder("db-elsewhere");
    writeFileSync(join(elsewhere, "parley.db"), "a database");
    const run = await parley(["restore", file], { DATA_DIR: join(folder("empty"), "data"), DATABASE_URL: `file:${join(elsewhere, "parley.db")}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/parley\.db already exists: restore only where there is no database/);
    expect(readFileSync(join(elsewhere, "parley.db"), "utf8")).toBe("a database");
  });

  it("refuses a truncated backup file, saying so, and leaves an empty DATA_DIR empty and a missing one missing", async () => {
    const file = await aBackup();
    const bytes = readFileSync(file);
    const dir = folder("truncated");
    for (const length of [100, 512, Math.floor(bytes.length / 2), bytes.length - 1024]) {
      const cut = join(dir, `cut-${length}.backup`);
      writeFileSync(cut, bytes.subarray(0, length));
      await refusedRestore(cut, folder("target"), /ends early: it is truncated/);
      const missing = join(folder("target"), "data");
      await refusedRestore(cut, missing, /ends early: it is truncated/);
      expect(existsSync(missing)).toBe(false);
    }
  });

  it("refuses a corrupt backup file: a changed byte of the database, of a header, of a file, or not a backup at all", async () => {
    const file = await aBackup();
    const bytes = readFileSync(file);
    const dir = folder("corrupt");
    const changed = (offset: number) => {
      const copy = Buffer.from(bytes);
      copy[offset] = (copy[offset] ?? 0) ^ 0xff;
      const path = join(dir, `changed-${offset}.backup`);
      writeFileSync(path, copy);
      return path;
    };
    // The manifest is the first entry (one header and one block); the database's header follows.
    await refusedRestore(changed(1024 + 512 + 4096), folder("target"), /corrupt: parley\.db does not match its checksum/);
    await refusedRestore(changed(1024 + 10), folder("target"), /corrupt: a damaged header/);
    // The uploaded file's bytes follow its header.
    const fileHeader = bytes.indexOf("files/");
    expect(fileHeader).toBeGreaterThan(0);
    await refusedRestore(changed(fileHeader + 512 + 100), folder("target"), /corrupt: files\/[a-z0-9]+ does not match its checksum/);
    const other = join(dir, "other.tar");
    writeFileSync(join(dir, "hello.txt"), "hello");
    expect(spawnSync("tar", ["-cf", other, "-C", dir, "hello.txt"]).status).toBe(0);
    await refusedRestore(other, folder("target"), /not a Parley backup/);
    await refusedRestore(join(dir, "hello.txt"), folder("target"), /truncated|not a Parley backup|corrupt/);
  });

  it("restores the small backup whole: its message, its file and a log that continues past the mark", async () => {
    const file = await aBackup();
    const dataDir = folder("whole");
    const run = await parley(["restore", file], { DATA_DIR: dataDir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/files: 1\n/);
    expect(listing(dataDir)).toEqual(expect.arrayContaining(["files", "jwt-secret", "parley.db"]));
    expect(readdirSync(join(dataDir, "files"))).toHaveLength(1);
    const db = new Database(join(dataDir, "parley.db"), { readonly: true });
    try {
      expect(db.prepare(`SELECT "content" FROM "Message"`).pluck().all()).toEqual(["kept"]);
      const floor = db.prepare<[], { restoredAtId: bigint }>(`SELECT "restoredAtId" FROM "EventLogFloor"`).safeIntegers().get();
      // The log held two events (the conversation, the message): it goes on 10^12 further, rounded up.
      expect(floor?.restoredAtId).toBe(2_000_000_000_000n);
    } finally {
      db.close();
    }
  });

  it("backup refuses to overwrite a file and points PostgreSQL at pg_dump; --help says what each command does", async () => {
    const existing = join(folder("backups"), "taken.backup");
    writeFileSync(existing, "something else");
    const dataDir = folder("any");
    writeFileSync(join(dataDir, "parley.db"), "");
    const over = await parley(["backup", existing], { DATA_DIR: dataDir });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/already exists: a backup never overwrites a file/);
    expect(readFileSync(existing, "utf8")).toBe("something else");
    const pg = await parley(["backup", join(folder("backups"), "pg.backup")], { DATABASE_URL: "postgresql://parley@127.0.0.1:1/parley" });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toMatch(/PostgreSQL: back it up with pg_dump/);
    const help = await parley(["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/backup <file>[\s\S]*restore <file>[\s\S]*mark-restored/);
    const wrong = await parley(["restore"], {});
    expect(wrong.code).toBe(2);
  });
});

const pgSkipped = !built || !postgresUrl || !pgToolsPresent();
function pgToolsPresent(): boolean {
  return spawnSync("pg_dump", ["--version"]).status === 0 && spawnSync("pg_restore", ["--version"]).status === 0;
}

describe.skipIf(pgSkipped)(
  `PostgreSQL: the README's pg_dump / pg_restore procedure${pgSkipped ? " (skipped: needs pnpm build, TEST_DATABASE_URL, pg_dump and pg_restore)" : ""}`,
  () => {
    it("a dump restored with pg_restore and marked with parley mark-restored serves every message dumped, and older positions resync", async () => {
      const source = await createTestDatabase("postgresql");
      const target = await createTestDatabase("postgresql");
      cleanups.push(source.drop, target.drop);
      const filesDir = join(folder("pg-files"), "files");
      const server = await startTestServer("postgresql", { database: source, files: { dir: filesDir } });
      cleanups.push(() => server.close());
      let [ann, bob] = [await signUpAndLogIn(server), await signUpAndLogIn(server)];
      const { id: conversationId } = await ann.api.conversation.create.mutate({ title: "pg", memberIds: [bob.id] });
      const synced = collectSync(live(server, bob));
      await waitForSubscribers(server, 1);
      const dumped: string[] = [];
      for (let i = 0; i < 5; i += 1) dumped.push((await ann.api.message.send.mutate({ conversationId, content: `dumped ${i}`, clientMessageId: clientMessageId() })).id);

      const dump = join(folder("pg-dump"), "parley.dump");
      const dumpRun = spawnSync("pg_dump", ["--format=custom", `--file=${dump}`, source.url], { encoding: "utf8" });
      expect(dumpRun.status, dumpRun.stderr).toBe(0);
      const after = await ann.api.message.send.mutate({ conversationId, content: "after the dump", clientMessageId: clientMessageId() });
      await synced.waitFor(6);
      const position = synced.stored.at(-1)?.id ?? "";
      expect(position).toBe(after.id);
      await server.close();

      const restoreRun = spawnSync("pg_restore", ["--no-owner", `--dbname=${target.url}`, dump], { encoding: "utf8" });
      expect(restoreRun.status, restoreRun.stderr).toBe(0);
      const mark = await parley(["mark-restored"], { DATABASE_URL: target.url });
      expect(mark.code, mark.stderr).toBe(0);
      expect(mark.stdout).toMatch(/new events follow 2000000000000/);

      const restored = await startTestServer("postgresql", { database: target, files: { dir: filesDir } });
      cleanups.push(() => restored.close());
      [ann, bob] = [on(restored, ann), on(restored, bob)];
      const page = await bob.api.message.list.query({ conversationId, limit: 10 });
      expect(page.items.map((m) => m.id)).toEqual(dumped);
      expect(await refusal(collectSync(live(restored, bob), position))).toBe("PRECONDITION_FAILED");
      expect(await refusal(collectLive(live(restored, bob), position))).toBe("PRECONDITION_FAILED");
      const next = await ann.api.message.send.mutate({ conversationId, content: "after the restore", clientMessageId: clientMessageId() });
      expect(BigInt(next.id)).toBeGreaterThan(BigInt(after.id));
      expect(await refusal(collectSync(live(restored, bob), position))).toBe("PRECONDITION_FAILED");
    }, 120_000);
  },
);
