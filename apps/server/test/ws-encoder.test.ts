import { describe, expect, it } from "vitest";
import { fanOutEncoder } from "../src/ws-encoder.js";

const message = { id: "42", conversationId: "c", senderId: "u", content: 'quote " and \u2028 and \u00e9', clientMessageId: "m", createdAt: "2030-01-01T00:00:00.000Z" };
const frame = (subscriptionId: number | string, jsonrpc?: "2.0") => ({
  id: subscriptionId,
  ...(jsonrpc ? { jsonrpc } : {}),
  result: { type: "data", id: message.id, data: { id: message.id, data: message } },
});

describe("the fan-out encoder", () => {
  it("writes tracked data frames that parse to exactly what JSON.stringify would give", () => {
    for (const f of [frame(1), frame("sub-7"), frame(3, "2.0")]) {
      expect(JSON.parse(fanOutEncoder.encode(f) as string)).toEqual(JSON.parse(JSON.stringify(f)));
    }
  });

  it("serializes a message once however many subscriptions it is sent to", () => {
    let serialized = 0;
    const counted = { ...message, toJSON: () => (serialized += 1, message) };
    for (let subscription = 1; subscription <= 50; subscription += 1) {
      fanOutEncoder.encode({ id: subscription, result: { type: "data", id: "42", data: { id: "42", data: counted } } });
    }
    expect(serialized).toBe(1);
  });

  it("leaves every other frame to JSON.stringify", () => {
    const others = [
      { id: 1, result: { type: "started" } },
      { id: 2, error: { message: "nope", code: -32600 } },
      { id: 3, result: { type: "data", data: { ok: true } } },
      { id: null, method: "reconnect" },
      { id: 4, result: { type: "data", id: "1", data: { id: "1", data: { a: 1 }, extra: true } } },
    ];
    for (const f of others) expect(fanOutEncoder.encode(f)).toBe(JSON.stringify(f));
  });

  it("decodes text frames as JSON", () => {
    expect(fanOutEncoder.decode('{"id":1,"method":"query"}')).toEqual({ id: 1, method: "query" });
  });
});
