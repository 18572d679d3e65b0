// A stream driven as tRPC's WebSocket adapter (patched) drives it: offered a frame sink before it
// is iterated, then iterated for what it yields (the replay) until it ends, while it writes its
// live events as frames itself. What it yields and the frames it writes come out of one iterator,
// in the order they were produced, frames parsed back into what the client's link hands on: a
// tracked event as [id, data], an untracked one as its data.
import { expect } from "vitest";
import { SENDS_OWN_FRAMES, type FrameSink } from "../src/live/ws-frames.js";

export type StreamMode = "yielded" | "own frames";
export const STREAM_MODES: readonly StreamMode[] = ["yielded", "own frames"];

const SUBSCRIPTION_ID = 42;

interface DataFrame {
  id: number;
  result: { type: "data"; id?: string; data: unknown };
}

export function throughOwnFrames(iterable: AsyncIterable<unknown>): AsyncIterator<unknown> {
  const ready: { result?: IteratorResult<unknown>; error?: unknown }[] = [];
  let wake: (() => void) | null = null;
  const put = (item: { result?: IteratorResult<unknown>; error?: unknown }) => {
    ready.push(item);
    wake?.();
  };
  const sink: FrameSink = {
    id: SUBSCRIPTION_ID,
    send(text) {
      const frame = JSON.parse(text) as DataFrame;
      expect(frame.id).toBe(SUBSCRIPTION_ID);
      expect(frame.result.type).toBe("data");
      const { id, data } = frame.result;
      if (id === undefined) {
        put({ result: { done: false, value: data } });
        return;
      }
      const envelope = data as { id: string; data: unknown };
      expect(envelope.id).toBe(id);
      put({ result: { done: false, value: [id, envelope.data] } });
    },
  };
  const offer = (iterable as { [SENDS_OWN_FRAMES]?: (sink: FrameSink) => void })[SENDS_OWN_FRAMES];
  expect(typeof offer).toBe("function");
  offer?.call(iterable, sink);
  const iterator = iterable[Symbol.asyncIterator]();
  // Iterated from the first next(), as the streams of the other mode run from theirs.
  let pumping = false;
  const pump = async () => {
    try {
      for (;;) {
        const result = await iterator.next();
        put({ result });
        if (result.done) return;
      }
    } catch (error) {
      put({ error });
    }
  };
  return {
    async next() {
      if (!pumping) {
        pumping = true;
        void pump();
      }
      while (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const item = ready.shift() as { result?: IteratorResult<unknown>; error?: unknown };
      if (item.error !== undefined) throw item.error;
      return item.result as IteratorResult<unknown>;
    },
    async return() {
      return (await iterator.return?.()) ?? { done: true, value: undefined };
    },
  };
}
