// Serializes each live message once per fan-out instead of once per recipient. tRPC hands every
// subscription's frame to the encoder separately, but the message inside is the same object for
// all recipients, so its JSON is kept (weakly) and spliced into each frame.
// Incoming frames are decoded from the parse ws-guard.ts already made (and checked).
import type { Encoder } from "@trpc/server/adapters/ws";
import { decodeFrame } from "./ws-guard.js";

const jsonOf = new WeakMap<object, string>();

interface DataFrame {
  id: string | number;
  jsonrpc?: "2.0";
  result: { type: "data"; id: string; data: { id: string; data: object } };
}

function isTrackedDataFrame(frame: unknown): frame is DataFrame {
  if (typeof frame !== "object" || frame === null) return false;
  const { id, jsonrpc, result } = frame as Partial<DataFrame>;
  if ((typeof id !== "string" && typeof id !== "number") || (jsonrpc !== undefined && jsonrpc !== "2.0")) return false;
  if (typeof result !== "object" || result === null || result.type !== "data" || typeof result.id !== "string") return false;
  const keys = Object.keys(frame).length;
  const envelope = result.data;
  return (
    keys === (jsonrpc === undefined ? 2 : 3) &&
    Object.keys(result).length === 3 &&
    typeof envelope === "object" &&
    envelope !== null &&
    Object.keys(envelope).length === 2 &&
    envelope.id === result.id &&
    typeof envelope.data === "object" &&
    envelope.data !== null
  );
}

export const fanOutEncoder: Encoder = {
  encode(frame) {
    if (!isTrackedDataFrame(frame)) return JSON.stringify(frame);
    const payload = frame.result.data.data;
    let json = jsonOf.get(payload);
    if (json === undefined) {
      json = JSON.stringify(payload);
      jsonOf.set(payload, json);
    }
    const eventId = JSON.stringify(frame.result.id);
    const head = frame.jsonrpc === undefined ? `{"id":${JSON.stringify(frame.id)},` : `{"id":${JSON.stringify(frame.id)},"jsonrpc":"2.0",`;
    return `${head}"result":{"type":"data","id":${eventId},"data":{"id":${eventId},"data":${json}}}}`;
  },
  decode: decodeFrame,
};
