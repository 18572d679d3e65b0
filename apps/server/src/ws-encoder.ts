// Serializes each live event once per fan-out instead of once per recipient. tRPC hands every
// subscription's frame to the encoder separately, but the event inside is the same object for
// all recipients, so its JSON is kept (weakly) and spliced into each frame. (The stored-event
// streams write their live frames themselves, the same way: packages/api/src/live/ws-frames.ts.)
// Incoming frames are decoded from the parse ws-guard.ts already made (and checked).
import type { Encoder } from "@trpc/server/adapters/ws";
import { frameHead, jsonOnce, trackedFrame } from "@parley/api";
import { decodeFrame } from "./ws-guard.js";

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
    return trackedFrame(frameHead(frame.id, frame.jsonrpc), frame.result.id, jsonOnce(frame.result.data.data));
  },
  decode: decodeFrame,
};
