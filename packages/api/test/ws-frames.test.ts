// The data frames the live streams write themselves must be exactly tRPC's own: a client's link
// cannot tell them from the frames tRPC's loop sends.
import { describe, expect, it } from "vitest";
import { frameHead, jsonOnce, trackedFrame, untrackedFrame } from "../src/live/ws-frames.js";

describe("live data frames", () => {
  it("a tracked event's frame is tRPC's, for a numeric or string subscription id, with or without jsonrpc", () => {
    const data = { type: "message.created", text: 'quotes " and \\ and émoji 👋' };
    expect(JSON.parse(trackedFrame(frameHead(7, undefined), "123", JSON.stringify(data)))).toStrictEqual({
      id: 7,
      result: { type: "data", id: "123", data: { id: "123", data } },
    });
    expect(JSON.parse(trackedFrame(frameHead("sub-\"a\"", "2.0"), "9", JSON.stringify(data)))).toStrictEqual({
      id: 'sub-"a"',
      jsonrpc: "2.0",
      result: { type: "data", id: "9", data: { id: "9", data } },
    });
    expect(JSON.parse(trackedFrame(frameHead(null, undefined), "1", "{}"))).toStrictEqual({ id: null, result: { type: "data", id: "1", data: { id: "1", data: {} } } });
  });

  it("an untracked event's frame carries no id to resume from", () => {
    expect(JSON.parse(untrackedFrame(frameHead(3, "2.0"), '{"type":"typing"}'))).toStrictEqual({ id: 3, jsonrpc: "2.0", result: { type: "data", data: { type: "typing" } } });
    expect(JSON.parse(untrackedFrame(frameHead(3, undefined), "[]"))).toStrictEqual({ id: 3, result: { type: "data", data: [] } });
  });

  it("serialises an object once, however many frames share it, and each object for itself", () => {
    const shared = { n: 1 };
    const first = jsonOnce(shared);
    // Changed after its first serialisation: the frames of one fan-out all carry what was sent first.
    shared.n = 2;
    expect(jsonOnce(shared)).toBe(first);
    expect(first).toBe('{"n":1}');
    expect(jsonOnce({ n: 2 })).toBe('{"n":2}');
  });
});
