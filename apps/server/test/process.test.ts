// The production entry point as an operator runs it: the built bundle, configured by environment.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import type { MessageDto } from "@parley/api/schemas";
import { collectLive, errorCodeOf, httpClient, rawSocket, signUpAndLogIn, TEST_JWT_SECRET, wsClient } from "./harness.js";

const bundle = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function run(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = "";
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function waitForLine(output: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return vi.waitFor(
    () => {
      const match = pattern.exec(output());
      if (!match) throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
      return match;
    },
    { timeout: timeoutMs, interval: 25 },
  );
}

describe.skipIf(!existsSync(bundle))(`the built server${existsSync(bundle) ? "" : " (skipped: run pnpm build first)"}`, () => {
  it("starts on a new SQLite file, answers /healthz, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-process-"));
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "" });
    try {
      const [, url] = await waitForLine(server.output, /"url":"([^"]+)"[^\n]*"msg":"listening"/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, database: "up" });
      expect(existsSync(join(dataDir, "parley.db"))).toBe(true);
      expect(server.output()).toContain("JWT_SECRET is not set");
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('"msg":"stopped"');
    } finally {
      server.child.kill("SIGKILL");
    }
  });

  it("runs every thread but the event loop's (password hashing on libuv's threadpool) at a lower priority", async () => {
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: mkdtempSync(join(tmpdir(), "parley-nice-")), WEB_DIST_DIR: "", JWT_SECRET: TEST_JWT_SECRET });
    try {
      await waitForLine(server.output, /"msg":"listening"/);
      const pid = server.child.pid ?? 0;
      // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (after the parenthesised name).
      const nice = (tid: string) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ")[16]);
      const threads = readdirSync(`/proc/${pid}/task`);
      expect(nice(String(pid))).toBe(0);
      // At least libuv's four threadpool threads and V8's helpers; threads the server started
      // itself afterwards (the SQLite checkpoint worker) inherit the event loop's priority.
      expect(threads.filter((tid) => nice(tid) === 10).length).toBeGreaterThanOrEqual(8);
      expect(server.output()).not.toContain("normal priority");
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("refuses to start with a short JWT_SECRET, saying why", async () => {
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: mkdtempSync(join(tmpdir(), "parley-process-")), JWT_SECRET: "short" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/JWT_SECRET must be at least 32 bytes/);
  });

  it("enforces MESSAGE_RATE_LIMIT, MESSAGE_CHANGE_RATE_LIMIT and WS_FRAME_RATE_LIMIT as the environment sets them", async () => {
    const server = run({
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: mkdtempSync(join(tmpdir(), "parley-limits-")),
      WEB_DIST_DIR: "",
      JWT_SECRET: TEST_JWT_SECRET,
      MESSAGE_RATE_LIMIT: "3/60s",
      MESSAGE_CHANGE_RATE_LIMIT: "2/60s",
      WS_FRAME_RATE_LIMIT: "1/s,5",
    });
    try {
      const [, url] = await waitForLine(server.output, /"url":"([^"]+)"[^\n]*"msg":"listening"/);
      const target = { url: url ?? "", port: Number(new URL(url ?? "").port) };
      const [alice, bob] = [await signUpAndLogIn(target), await signUpAndLogIn(target)];
      const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
      for (let i = 0; i < 3; i += 1) await alice.api.message.send.mutate({ conversationId: id, content: "x", clientMessageId: `m${i}` });
      expect(await errorCodeOf(alice.api.message.send.mutate({ conversationId: id, content: "x", clientMessageId: "m3" }))).toBe("TOO_MANY_REQUESTS");
      // Two reactions that change something, then the third is one too many.
      const { items } = await bob.api.message.list.query({ conversationId: id });
      const messageId = items[0]?.id ?? "";
      await bob.api.message.react.mutate({ messageId, emoji: "👍", on: true });
      await bob.api.message.react.mutate({ messageId, emoji: "🎉", on: true });
      expect(await errorCodeOf(bob.api.message.react.mutate({ messageId, emoji: "👀", on: true }))).toBe("TOO_MANY_REQUESTS");

      // Five frames in a burst are allowed (connectionParams was the first), the seventh is not.
      const raw = await rawSocket(target, { token: alice.accessToken });
      for (let i = 0; i < 4; i += 1) raw.send("PONG");
      await new Promise((r) => setTimeout(r, 100));
      expect(raw.socket.readyState).toBe(raw.socket.OPEN);
      for (let i = 0; i < 2; i += 1) raw.send("PONG");
      expect(await raw.closed).toEqual({ code: 1008, reason: "too many messages" });
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("SIGKILL during a burst of sends loses no acknowledged message, and a resuming client gets exactly what it missed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-kill-"));
    const env = { HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "", JWT_SECRET: TEST_JWT_SECRET };
    const first = run({ ...env, PORT: "0" });
    try {
      const [, url] = await waitForLine(first.output, /"url":"([^"]+)"[^\n]*"msg":"listening"/);
      const port = Number(new URL(url ?? "").port);
      const target = { url: url ?? "", port };
      const [alice, bob] = [await signUpAndLogIn(target), await signUpAndLogIn(target)];
      const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
      const seen = await alice.api.message.send.mutate({ conversationId: id, content: "seen", clientMessageId: "seen" });

      const acknowledged: MessageDto[] = [];
      const senders = Array.from({ length: 4 }, async (_, lane) => {
        for (let i = 0; i < 100; i += 1) {
          const ack = await alice.api.message.send
            .mutate({ conversationId: id, content: `burst ${lane}-${i}`, clientMessageId: `burst-${lane}-${i}` })
            .catch(() => null);
          if (!ack) return;
          acknowledged.push(ack);
        }
      });
      await vi.waitFor(() => expect(acknowledged.length).toBeGreaterThanOrEqual(40), { timeout: 15_000, interval: 5 });
      first.child.kill("SIGKILL");
      await Promise.all(senders);
      await first.exited;

      const second = run({ ...env, PORT: String(port) });
      try {
        await waitForLine(second.output, /"msg":"listening"/);
        const stored = new Set<string>();
        let cursor: string | null = null;
        do {
          const page: { items: MessageDto[]; nextCursor: string | null } = await bob.api.message.list.query({ conversationId: id, cursor, limit: 100 });
          for (const m of page.items) stored.add(m.id);
          cursor = page.nextCursor;
        } while (cursor);
        for (const ack of acknowledged) expect(stored.has(ack.id)).toBe(true);

        const resumed = wsClient(target, bob.accessToken);
        const received = collectLive(resumed, seen.id);
        await received.waitFor(stored.size - 1, 10_000);
        await new Promise((r) => setTimeout(r, 200));
        const expected = [...stored].filter((m) => m !== seen.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        expect(received.ids).toEqual(expected);
        await resumed.close();
        expect((await httpClient(target).auth.login.mutate({ username: alice.username, password: "correct horse battery" })).accessToken).toBeTruthy();
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      first.child.kill("SIGKILL");
    }
  });
});
