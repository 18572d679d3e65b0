// The generator recognises deliveries and replies by looking at bytes, not by parsing JSON: these
// pin that reading to the frames each server really sends.
import { describe, expect, it } from "vitest";
import { CONTENT_BYTES, baselineProtocol, messageContent, parleyProtocol, readDelivery, type Delivery } from "../src/protocols.js";

const content = messageContent(3, 41, 1234.567);
const frame = (value: unknown) => Buffer.from(JSON.stringify(value));
const message = { id: "7", conversationId: "c1", senderId: "u1", content, clientMessageId: "x-41", createdAt: "2026-01-01T00:00:00.000Z" };

describe("bench message content", () => {
  it("is 128 bytes and carries the step, sequence number and intended send time", () => {
    expect(Buffer.byteLength(content)).toBe(CONTENT_BYTES);
    const delivery: Delivery = { step: 0, seq: 0, intendedMs: 0 };
    expect(readDelivery(frame({ type: "message", id: "9", room: "r", content }), delivery)).toBe(true);
    expect(delivery).toEqual({ step: 3, seq: 41, intendedMs: 1234.567 });
  });
});

describe("Parley's tRPC WebSocket frames", () => {
  it("tell a live delivery, the subscription start, a send's reply, an error and a ping apart", () => {
    expect(parleyProtocol.classify(frame({ id: 1, result: { type: "data", data: { id: "7", data: message }, id: "7" } }))).toEqual({ kind: "delivery" });
    expect(parleyProtocol.classify(frame({ id: 1, result: { type: "started" } }))).toEqual({ kind: "ready" });
    expect(parleyProtocol.classify(frame({ id: 12, result: { type: "data", data: message } }))).toEqual({ kind: "ack", requestId: 12 });
    expect(parleyProtocol.classify(frame({ id: 13, error: { code: -32029, message: "slow down", data: { code: "TOO_MANY_REQUESTS" } } }))).toEqual({
      kind: "error",
      requestId: 13,
      code: "TOO_MANY_REQUESTS",
    });
    expect(parleyProtocol.classify(Buffer.from("PING"))).toEqual({ kind: "ping" });
  });
});

describe("the baseline server's frames", () => {
  it("tell a delivery, the room join and a send's reply apart", () => {
    expect(baselineProtocol.classify(frame({ type: "message", id: "9", room: "r", content }))).toEqual({ kind: "delivery" });
    expect(baselineProtocol.classify(frame({ id: 1, ok: true }))).toEqual({ kind: "ready" });
    expect(baselineProtocol.classify(frame({ id: 5, ok: true }))).toEqual({ kind: "ack", requestId: 5 });
    expect(baselineProtocol.classify(frame({ id: 6, error: "FORBIDDEN" }))).toEqual({ kind: "error", requestId: 6, code: "FORBIDDEN" });
  });
});

describe("frames read where they lie in a larger buffer", () => {
  it("look only inside their own range", () => {
    const before = frame({ id: 5, ok: true });
    const delivery = frame({ type: "message", id: "9", room: "r", content });
    const after = frame({ type: "message", id: "10", room: "r", content: messageContent(3, 42, 1) });
    const buffer = Buffer.concat([before, delivery, after]);
    const start = before.length;
    const end = start + delivery.length;
    expect(baselineProtocol.classify(buffer, 0, start)).toEqual({ kind: "ack", requestId: 5 });
    expect(baselineProtocol.classify(buffer, start, end)).toEqual({ kind: "delivery" });
    const read: Delivery = { step: 0, seq: 0, intendedMs: 0 };
    expect(readDelivery(buffer, read, start, end)).toBe(true);
    expect(read).toEqual({ step: 3, seq: 41, intendedMs: 1234.567 });
    // The ack before has no content: the delivery after it must not be read in its place.
    expect(readDelivery(buffer, read, 0, start)).toBe(false);
    // Cut inside the content: the fields are incomplete.
    expect(readDelivery(buffer, read, start, end - CONTENT_BYTES + 4)).toBe(false);
    const ping = Buffer.concat([Buffer.from("PING"), before]);
    expect(parleyProtocol.classify(ping, 0, 4)).toEqual({ kind: "ping" });
    expect(parleyProtocol.classify(ping, 4, ping.length)).toEqual({ kind: "ack", requestId: 5 });
  });
});
