// tRPC's WebSocket data frames as text, built by splicing: a live event's JSON is made once per
// fan-out and each recipient's frame is its subscription's head around it. Used twice: by the
// server's encoder for what tRPC's subscription loop sends (replays, other streams), and by the
// stored-event streams that write their live frames themselves (feed-stream.ts).
//
// The frames are tRPC v11's own (`{"id":<subscription>,"result":{"type":"data",...}}`, with
// `"jsonrpc":"2.0"` when the client sent it); tracked events carry their id twice, as tRPC does.

/**
 * The method by which tRPC's WebSocket adapter (patches/@trpc__server@11.19.0.patch) offers a
 * subscription's stream to write its own data frames: called with a `FrameSink` before the stream is
 * iterated.
 */
export const SENDS_OWN_FRAMES: unique symbol = Symbol.for("trpc.ws.sendsOwnFrames") as never;

/** One subscription's way to its socket, handed over by the adapter. */
export interface FrameSink {
  /** The subscription's JSON-RPC id, as the client sent it. */
  id: string | number | null;
  jsonrpc?: "2.0";
  /** Writes a text frame to the socket (nothing once it is no longer open). */
  send(text: string): void;
}

const jsonOf = new WeakMap<object, string>();

/** The value's JSON, made once per object: every recipient of a fan-out shares the event's object. */
export function jsonOnce(value: object): string {
  let json = jsonOf.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    jsonOf.set(value, json);
  }
  return json;
}

/** What every data frame of a subscription starts with. */
export function frameHead(id: string | number | null, jsonrpc: "2.0" | undefined): string {
  return jsonrpc === undefined ? `{"id":${JSON.stringify(id)},` : `{"id":${JSON.stringify(id)},"jsonrpc":"2.0",`;
}

/** A tracked event's frame: `eventId` is what a client resumes from. */
export function trackedFrame(head: string, eventId: string, dataJson: string): string {
  const id = JSON.stringify(eventId);
  return `${head}"result":{"type":"data","id":${id},"data":{"id":${id},"data":${dataJson}}}}`;
}

/** An untracked event's frame (typing, presence: never resumed from). */
export function untrackedFrame(head: string, dataJson: string): string {
  return `${head}"result":{"type":"data","data":${dataJson}}}`;
}
