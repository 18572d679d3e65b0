// Telling the other members that the reader is typing (typing.set). The server passes on at most
// one event per user and conversation per 2 s, answering the rest { ok: true } without passing
// them on, and the others show it for 6 s. So while someone types, one call per 2 s is enough;
// one made sooner would be dropped silently. Keystrokes within the interval are therefore told
// once, when it ends (a short burst right after a send is still seen), unless the message is sent
// or the composer cleared first. There is no "stopped typing" call: the others stop showing it
// when the message arrives, or by expiry.
import { isBlankText } from "@parley/api/limits";
import { realTimer, type SetTimer } from "../timers";

/** At most one typing.set per conversation this often while the reader types (the server's throttle). */
export const TYPING_REPORT_MS = 2_000;
/** A call held back waits this much longer than the interval, so the server cannot count it as too early. */
const LATE_MARGIN_MS = 250;

export interface TypingReporterDeps {
  /** Tells the server (typing.set). */
  report(conversationId: string): Promise<unknown>;
  /** Date.now by default. */
  now?(): number;
  /** Runs `run` after `ms` (setTimeout by default); returns a cancel. */
  setTimer?(run: () => void, ms: number): () => void;
}

export class TypingReporter {
  /** Per conversation, when typing was last told. */
  private readonly lastReported = new Map<string, number>();
  /** Per conversation, the call held back until the interval ends. */
  private readonly held = new Map<string, () => void>();
  private readonly now: () => number;
  private readonly setTimer: SetTimer;

  constructor(private readonly deps: TypingReporterDeps) {
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimer ?? realTimer;
  }

  /** The reader changed the text of a conversation's composer to `text`. */
  typed(conversationId: string, text: string): void {
    if (isBlankText(text)) {
      this.stopped(conversationId);
      return;
    }
    if (this.held.has(conversationId)) return;
    const last = this.lastReported.get(conversationId);
    const wait = last === undefined ? 0 : last + TYPING_REPORT_MS - this.now();
    if (wait <= 0) {
      this.report(conversationId);
      return;
    }
    const cancel = this.setTimer(() => {
      this.held.delete(conversationId);
      this.report(conversationId);
    }, wait + LATE_MARGIN_MS);
    this.held.set(conversationId, cancel);
  }

  /** The message was sent or the composer cleared: nothing held back is told any more. */
  stopped(conversationId: string): void {
    this.held.get(conversationId)?.();
    this.held.delete(conversationId);
  }

  /** Cancels everything held back (the client is going away). */
  dispose(): void {
    for (const cancel of this.held.values()) cancel();
    this.held.clear();
  }

  private report(conversationId: string): void {
    const at = this.now();
    this.lastReported.set(conversationId, at);
    this.deps.report(conversationId).catch(() => {
      // Not told (offline, no longer a member): the next keystroke tries again.
      if (this.lastReported.get(conversationId) === at) this.lastReported.delete(conversationId);
    });
  }
}
