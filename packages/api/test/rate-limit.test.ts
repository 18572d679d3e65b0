import { beforeEach, describe, expect, it } from "vitest";
import { WindowCounter } from "../src/auth/rate-limit.js";
import { fakeClock, type FakeClock } from "./helpers.js";

const LIMIT = { max: 3, windowSeconds: 60 };

let clock: FakeClock;
let counter: WindowCounter;

beforeEach(() => {
  clock = fakeClock();
  counter = new WindowCounter(LIMIT, clock);
});

function takeTimes(key: string, times: number): number[] {
  return Array.from({ length: times }, () => counter.take(key));
}

describe("WindowCounter", () => {
  it("allows max events in a window", () => {
    expect(takeTimes("alice", LIMIT.max)).toEqual([0, 0, 0]);
  });

  it("refuses the event after max with the seconds until the window resets", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(20);
    expect(counter.take("alice")).toBe(40);
  });

  it("reports at least one second to wait in the window's last fraction of a second", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(59.5);
    expect(counter.retryAfter("alice")).toBe(1);
  });

  it("allows events again once the window has passed", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(LIMIT.windowSeconds);
    expect(counter.take("alice")).toBe(0);
  });

  it("retryAfter alone does not count as an event", () => {
    for (let i = 0; i < 10; i += 1) counter.retryAfter("alice");
    expect(takeTimes("alice", LIMIT.max)).toEqual([0, 0, 0]);
  });

  it("clear() resets a key", () => {
    takeTimes("alice", LIMIT.max);
    counter.clear("alice");
    expect(counter.take("alice")).toBe(0);
  });

  it("keeps keys independent", () => {
    takeTimes("alice", LIMIT.max);
    expect(counter.take("bob")).toBe(0);
  });
});
