// A few seconds of the load generator against the built Parley server and the baseline: every
// message is delivered to every member of its room exactly once. The benchmarks themselves are
// `pnpm bench`, not part of `pnpm test`.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadGenerator, type StepResult } from "../src/load.js";
import { serverBundle, startParley, stopAllServers } from "../src/processes.js";
import { createConversations, signUpUsers, type BenchUser } from "../src/setup.js";
import { baselineTarget, loadPlan, parleyTarget, topology, type Target } from "../src/targets.js";

const built = existsSync(serverBundle);
const layout = topology(20, 5, 20);
const STEP = { rate: 100, warmupMs: 0, measureMs: 3_000, drainMs: 5_000 };

describe.skipIf(!built)(`the load generator${built ? "" : " (skipped: run pnpm build first)"}`, () => {
  const workDir = mkdtempSync(join(tmpdir(), "parley-bench-smoke-"));
  const jwtSecret = randomBytes(48).toString("base64url");
  const databaseUrl = `file:${join(workDir, "smoke.db")}`;
  let users: BenchUser[] = [];
  let conversationIds: string[] = [];

  beforeAll(async () => {
    const setup = await startParley({ databaseUrl, dataDir: workDir, jwtSecret, cpu: null });
    try {
      users = await signUpUsers(setup.url, 20, "smoke");
      conversationIds = await createConversations(setup.url, users, layout.rooms);
    } finally {
      await setup.stop();
    }
  });

  afterAll(async () => {
    await stopAllServers();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function shortRun(target: Target): Promise<StepResult> {
    const deployment = await target.start();
    const generator = new LoadGenerator(loadPlan(target, deployment, layout, { users, conversationIds }));
    try {
      await generator.connect();
      return await generator.runStep({ ...STEP, probe: () => deployment.probe() });
    } finally {
      await generator.close();
      await deployment.stop();
    }
  }

  function expectEveryMessageOnce(result: StepResult): void {
    expect(result.errors).toEqual({});
    expect(result.sent).toBe(300);
    expect(result.acked).toBe(300);
    expect(result.expected).toBe(300 * 5);
    expect(result.received).toBe(result.expected);
    expect(result.lost).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.drained).toBe(true);
    expect(result.latency.count).toBeGreaterThan(0);
  }

  it("delivers every message to every member of its room exactly once through Parley", async () => {
    expectEveryMessageOnce(await shortRun(parleyTarget({ label: "Parley", databaseUrl, workDir, jwtSecret, cpu: null })));
  });

  it("delivers every message to every member of its room exactly once through the baseline server", async () => {
    expectEveryMessageOnce(await shortRun(baselineTarget(null)));
  });
});
