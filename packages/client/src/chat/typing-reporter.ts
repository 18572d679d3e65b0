// Telling the other members that the reader is typing (typing.set). The server passes on at most
// one event per user and conversation per 2 s and the others show it for 6 s, so while someone
// types a call every 2 s is enough; calling on every keystroke would only cost requests. Sending,
// or clearing the composer, ends the interval: the first keystroke of the next message is told at
// once (as far as the server's own throttle lets it through). There is no "stopped typing" call:
// the others stop showing it when the message arrives, or by expiry.
import { isBlankText } from "@parley/api/limits";

/** At most one typing.set per conversation this often while the reader types. */
export const TYPING_REPORT_MS = 2_000;

export interface TypingReporterDeps {
  /** Tells the server (typing.set). */
  report(conversationId: string): Promise<unknown>;
  /** Date.now by default. */
  now?(): number;
}

export class TypingReporter {
  /** Per conversation, when typing was last told. */
  private readonly lastReported = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly deps: TypingReporterDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The reader changed the text of a conversation's composer to `text`. */
  typed(conversationId: string, text: string): void {
    if (isBlankText(text)) {
      this.stopped(conversationId);
      return;
    }
    const now = this.now();
    const last = this.lastReported.get(conversationId);
    if (last !== undefined && now - last < TYPING_REPORT_MS) return;
    this.lastReported.set(conversationId, now);
    this.deps.report(conversationId).catch(() => {
      // Not told (offline, no longer a member): the next keystroke tries again.
      if (this.lastReported.get(conversationId) === now) this.lastReported.delete(conversationId);
    });
  }

  /** The message was sent or the composer cleared: the next keystroke is told at once. */
  stopped(conversationId: string): void {
    this.lastReported.delete(conversationId);
  }
}
