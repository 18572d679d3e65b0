// How the Sessions of one browser's tabs (or of one process) take turns: a lock around each refresh
// and a channel on which they announce changes. In a browser, the Web Locks API and a
// BroadcastChannel; in Node, a lock within the process and no one to tell.

/** What a Session tells the others: the stored session changed (with a notice for the screen). */
export type SessionMessage = { type: "changed"; notice: string | null };

export type LockRunner = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface SessionChannel {
  post(message: SessionMessage): void;
  /** Returns the function that stops listening. */
  listen(onMessage: (message: SessionMessage) => void): () => void;
}

export interface SessionCoordination {
  withLock: LockRunner;
  channel: SessionChannel;
}

/** Serialises holders of the same name within this process (or tab). */
export function inProcessLock(): LockRunner {
  const tails = new Map<string, Promise<unknown>>();
  return (name, fn) => {
    const run = (tails.get(name) ?? Promise.resolve()).then(fn, fn);
    tails.set(name, run.catch(() => undefined));
    return run;
  };
}

const silentChannel: SessionChannel = { post: () => undefined, listen: () => () => undefined };

/** One process with one session: a Node script, a bot, a test. */
export function singleProcess(): SessionCoordination {
  return { withLock: inProcessLock(), channel: silentChannel };
}

const CHANNEL_NAME = "parley.session";

/**
 * Every tab of this origin. navigator.locks exists in secure contexts (https, localhost); elsewhere a
 * lock within the tab still keeps one tab from refreshing twice at once.
 */
export function browserTabs(): SessionCoordination {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CHANNEL_NAME) : null;
  return {
    withLock: locks ? (name, fn) => locks.request(name, fn) : inProcessLock(),
    channel: channel
      ? {
          post: (message) => channel.postMessage(message),
          listen: (onMessage) => {
            const handler = (event: MessageEvent<SessionMessage>) => onMessage(event.data);
            channel.addEventListener("message", handler);
            return () => channel.removeEventListener("message", handler);
          },
        }
      : silentChannel,
  };
}
