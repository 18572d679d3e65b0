// The in-process event bus, the default on a single instance: it calls its listeners at once, in
// order, and has nothing that can fail or stay open.
import { describe, expect, it } from "vitest";
import { InProcessEventBus, type ParleyEvent } from "../src/live/event-bus.js";

describe("InProcessEventBus", () => {
  it("calls every listener with each event before publish resolves, in the order they subscribed", async () => {
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    bus.subscribe((event) => heard.push(`first ${event.type}`));
    bus.subscribe((event) => heard.push(`second ${event.type}`));
    const published = bus.publish({ type: "resync" });
    expect(heard).toEqual(["first resync", "second resync"]);
    await published;
  });

  it("stops calling a listener that unsubscribed", async () => {
    const bus = new InProcessEventBus();
    const heard: ParleyEvent[] = [];
    const unsubscribe = bus.subscribe((event) => heard.push(event));
    unsubscribe();
    await bus.publish({ type: "resync" });
    expect(heard).toEqual([]);
  });

  it("calls no one after close()", async () => {
    const bus = new InProcessEventBus();
    const heard: ParleyEvent[] = [];
    bus.subscribe((event) => heard.push(event));
    await bus.close();
    await bus.publish({ type: "resync" });
    expect(heard).toEqual([]);
  });

  it("has no status to report: nothing in it can go down", () => {
    expect(new InProcessEventBus().status()).toBeNull();
  });
});
