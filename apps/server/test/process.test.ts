// The production entry point as an operator runs it: the built bundle, configured by environment.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bundle = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function run(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = "";
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForLine(output: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(output());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!existsSync(bundle))(`the built server${existsSync(bundle) ? "" : " (skipped: run pnpm build first)"}`, () => {
  it("starts on a new SQLite file, answers /healthz, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-process-"));
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, WEB_DIST_DIR: "" });
    try {
      const [, url] = await waitForLine(server.output, /"msg":"listening","url":"([^"]+)"/);
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

  it("refuses to start with a short JWT_SECRET, saying why", async () => {
    const server = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: mkdtempSync(join(tmpdir(), "parley-process-")), JWT_SECRET: "short" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/JWT_SECRET must be at least 32 bytes/);
  });
});
