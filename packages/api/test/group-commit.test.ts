// GroupCommit: one batch stored at a time; what arrives while one is being stored waits and goes
// into the next, answered in order.
import { expect, it } from "vitest";
import { GroupCommit } from "../src/domain/group-commit.js";

it("stores one batch at a time, gathering what arrives meanwhile into the next", async () => {
  const batches: number[][] = [];
  let storing = 0;
  let mostAtOnce = 0;
  let started = () => {};
  const firstStarted = new Promise<void>((resolve) => (started = resolve));
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const commits = new GroupCommit<number, number>(async (batch) => {
    storing += 1;
    mostAtOnce = Math.max(mostAtOnce, storing);
    batches.push([...batch]);
    started();
    await held;
    storing -= 1;
    return batch.map((n) => n * 10);
  });
  const first = commits.submit(1);
  await firstStarted;
  const later = [commits.submit(2), commits.submit(3)];
  // Let any batch that would start now start before the first is released.
  await new Promise<void>((resolve) => setImmediate(resolve));
  release();
  expect(await Promise.all([first, ...later])).toEqual([10, 20, 30]);
  expect(batches).toEqual([[1], [2, 3]]);
  expect(mostAtOnce).toBe(1);
});
