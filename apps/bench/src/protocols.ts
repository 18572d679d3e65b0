// How the generator talks to each target. Both carry the same 128-byte message content, which
// holds everything the generator needs to account for a delivery (step, sequence number, intended
// send time), so a delivery is recognised and timed without parsing the whole frame as JSON.

export type TargetName = "parley" | "baseline";

export const CONTENT_BYTES = 128;
/** The request id of the one subscription (Parley) or room join (baseline) per connection. */
export const SUBSCRIPTION_ID = 1;

export function messageContent(step: number, seq: number, intendedMs: number): string {
  const head = `b|${step}|${seq}|${Math.round(intendedMs * 1000)}|`;
  return head.padEnd(CONTENT_BYTES, ".");
}

export interface Delivery {
  step: number;
  /** The message's number within its room in this step. */
  seq: number;
  /** When the generator meant to send it (performance.now() of the generator). */
  intendedMs: number;
}

const CONTENT_MARKER = Buffer.from('"content":"b|');
const BAR = 0x7c;

/**
 * Reads the bench fields out of a frame carrying a message into `into` (reused: tens of thousands
 * of deliveries a second should not each allocate), or returns false if it has none. The frame is
 * `frame[start, end)`: the generator hands on frames where they lie in its read buffer.
 */
export function readDelivery(frame: Buffer, into: Delivery, start = 0, end = frame.length): boolean {
  const found = indexWithin(frame, CONTENT_MARKER, start, end);
  if (found < 0) return false;
  let pos = found + CONTENT_MARKER.length;
  for (let field = 0; field < 3; field += 1) {
    let value = 0;
    let digits = 0;
    for (let c = pos < end ? frame[pos] : undefined; c !== undefined && c >= 0x30 && c <= 0x39; c = ++pos < end ? frame[pos] : undefined) {
      value = value * 10 + (c - 0x30);
      digits += 1;
    }
    if (digits === 0 || pos >= end || frame[pos] !== BAR) return false;
    if (field === 0) into.step = value;
    else if (field === 1) into.seq = value;
    else into.intendedMs = value / 1000;
    pos += 1;
  }
  return true;
}

/**
 * Where `text` first occurs in `frame[start, end)`, or -1. A loop here rather than Buffer's
 * indexOf: that one would search on past `end` through the rest of the read buffer, and for
 * frames of a few hundred bytes the call into C++ costs as much as the search.
 */
export function indexWithin(frame: Buffer, text: Buffer, start: number, end: number): number {
  const first = text[0];
  const last = end - text.length;
  for (let at = start; at <= last; at += 1) {
    if (frame[at] !== first) continue;
    let k = 1;
    while (k < text.length && frame[at + k] === text[k]) k += 1;
    if (k === text.length) return at;
  }
  return -1;
}

export type Frame =
  | { kind: "delivery" }
  | { kind: "ready" }
  | { kind: "ack"; requestId: number }
  | { kind: "error"; requestId: number | null; code: string }
  | { kind: "ping" }
  /** Another event of the feed (sync.events): read.updated, typing, presence, ... */
  | { kind: "event" }
  | { kind: "ignored" };

// The frames without fields, allocated once.
const DELIVERY: Frame = { kind: "delivery" };
const READY: Frame = { kind: "ready" };
const PING_FRAME: Frame = { kind: "ping" };
const EVENT: Frame = { kind: "event" };
const IGNORED: Frame = { kind: "ignored" };

export interface Protocol {
  readonly name: TargetName;
  socketUrl(httpUrl: string): string;
  /** Frames sent right after the socket opens: authentication and the subscription or room join. */
  greeting(client: { token: string | null; room: string }): string[];
  sendFrame(requestId: number, room: string, content: string, clientMessageId: string): string;
  /** What `frame[start, end)` is (the whole buffer by default). */
  classify(frame: Buffer, start?: number, end?: number): Frame;
}

const ID_PREFIX = Buffer.from('{"id":');

function startsWithAt(frame: Buffer, position: number, text: Buffer, end: number): boolean {
  if (end - position < text.length) return false;
  for (let k = 0; k < text.length; k += 1) if (frame[position + k] !== text[k]) return false;
  return true;
}

/** The number after `{"id":`, and where it ends; null for `{"id":null` or anything else. */
function leadingId(frame: Buffer, start: number, end: number): { id: number; end: number } | null {
  if (!startsWithAt(frame, start, ID_PREFIX, end)) return null;
  let pos = start + ID_PREFIX.length;
  let id = 0;
  const first = pos;
  for (let c = pos < end ? frame[pos] : undefined; c !== undefined && c >= 0x30 && c <= 0x39; c = ++pos < end ? frame[pos] : undefined) id = id * 10 + (c - 0x30);
  return pos > first ? { id, end: pos } : null;
}

function errorCode(frame: Buffer, start: number, end: number, pattern: RegExp): string {
  return pattern.exec(frame.toString("latin1", start, end))?.[1] ?? "UNKNOWN";
}

const PING = Buffer.from("PING");
const RECONNECT = Buffer.from("reconnect");
const TRPC_ERROR_CODE = /"code":"([A-Z_]+)"/;
const RESULT_DATA = Buffer.from(',"result":{"type":"data"');
const RESULT_STARTED = Buffer.from(',"result":{"type":"started"');
const ERROR_FIELD = Buffer.from(',"error":');

/** Which Parley stream the clients subscribe to: v1's messages, or v2's whole feed. */
export type ParleyFeed = "message.live" | "sync.events";

const MESSAGE_CREATED = Buffer.from('"type":"message.created"');

/**
 * tRPC v11 over WebSocket, as `createWSClient` speaks it (see @trpc/server's ws adapter), with
 * one subscription per connection to `feed`. On sync.events a data frame is a message delivery only
 * if it is a `message.created`; the rest (read receipts, typing, presence) are "event" frames.
 */
export function parleyProtocolOn(feed: ParleyFeed): Protocol {
  const allEvents = feed === "sync.events";
  return {
    name: "parley",
    socketUrl: (httpUrl) => `${httpUrl.replace(/^http/, "ws")}/trpc?connectionParams=1`,
    greeting: ({ token }) => [
      JSON.stringify({ method: "connectionParams", data: { token } }),
      JSON.stringify({ id: SUBSCRIPTION_ID, method: "subscription", params: { path: feed, input: {} } }),
    ],
    sendFrame: (requestId, room, content, clientMessageId) =>
      JSON.stringify({ id: requestId, method: "mutation", params: { path: "message.send", input: { conversationId: room, content, clientMessageId } } }),
    classify(frame, start = 0, end = frame.length) {
      if (end - start === PING.length && startsWithAt(frame, start, PING, end)) return PING_FRAME;
      const lead = leadingId(frame, start, end);
      if (!lead) {
        // `{"id":null,"method":"reconnect"}`: the server is shutting down.
        return indexWithin(frame, RECONNECT, start, end) >= 0 ? { kind: "error", requestId: null, code: "RECONNECT" } : IGNORED;
      }
      if (startsWithAt(frame, lead.end, ERROR_FIELD, end)) return { kind: "error", requestId: lead.id, code: errorCode(frame, start, end, TRPC_ERROR_CODE) };
      if (lead.id !== SUBSCRIPTION_ID) return { kind: "ack", requestId: lead.id };
      if (startsWithAt(frame, lead.end, RESULT_DATA, end)) return !allEvents || indexWithin(frame, MESSAGE_CREATED, lead.end, end) >= 0 ? DELIVERY : EVENT;
      if (startsWithAt(frame, lead.end, RESULT_STARTED, end)) return READY;
      return { kind: "error", requestId: lead.id, code: "SUBSCRIPTION_STOPPED" };
    },
  };
}

/** What the bench measured before v2: every client on message.live. */
export const parleyProtocol: Protocol = parleyProtocolOn("message.live");

const BASELINE_MESSAGE = Buffer.from('{"type":"message"');
const OK_FIELD = Buffer.from(',"ok":true');
const BASELINE_ERROR_CODE = /"error":"([A-Z_]+)"/;

export const baselineProtocol: Protocol = {
  name: "baseline",
  socketUrl: (httpUrl) => httpUrl.replace(/^http/, "ws"),
  greeting: ({ room }) => [JSON.stringify({ id: SUBSCRIPTION_ID, join: room })],
  sendFrame: (requestId, room, content) => JSON.stringify({ id: requestId, room, content }),
  classify(frame, start = 0, end = frame.length) {
    if (startsWithAt(frame, start, BASELINE_MESSAGE, end)) return DELIVERY;
    const lead = leadingId(frame, start, end);
    if (!lead) return IGNORED;
    if (startsWithAt(frame, lead.end, OK_FIELD, end)) return lead.id === SUBSCRIPTION_ID ? READY : { kind: "ack", requestId: lead.id };
    return { kind: "error", requestId: lead.id, code: errorCode(frame, start, end, BASELINE_ERROR_CODE) };
  },
};

export const protocols: Record<TargetName, Protocol> = { parley: parleyProtocol, baseline: baselineProtocol };
