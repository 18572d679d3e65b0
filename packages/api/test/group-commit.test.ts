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

it("starts a batch no sooner than the interval after the one before, gathering what arrives meanwhile", async () => {
  const batches: { items: number[]; at: number }[] = [];
  const commits = new GroupCommit<number, number>(
    (batch) => {
      batches.push({ items: [...batch], at: performance.now() });
      return Promise.resolve(batch.map((n) => n + 1));
    },
    100,
    40,
  );
  // Quiet: the first request is stored at once, alone.
  expect(await commits.submit(1)).toBe(2);
  // Busy: these arrive within the interval, in different turns of the event loop.
  const second = commits.submit(2);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const third = commits.submit(3);
  expect(await Promise.all([second, third])).toEqual([3, 4]);
  expect(batches.map((b) => b.items)).toEqual([[1], [2, 3]]);
  const [first, next] = batches.map((b) => b.at);
  // Timers count from the event loop's clock, read when the turn began, so one may fire a few
  // milliseconds early by performance.now()'s reckoning; without the interval it would be ~0.
  expect((next ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(30);
});
