// Keeps one resumable live feed running. Stored events carry ids (tRPC tracked events); the wsLink
// sends the last id it saw as `lastEventId` when its socket reconnects, and this class does the same
// when it has to subscribe again itself (the stream ended or failed), with backoff and jitter, so
// the server replays what was missed. When the feed starts with no id to resume from, whatever
// happened before it may be missing from what the app loaded, so it says so (onResumeLost).
//
// A position the server can no longer resume from (older than its log, or from another database)
// is refused with PRECONDITION_FAILED: the stream forgets it and subscribes afresh, which reports
// onResumeLost, so the app reloads its state - never a silent gap.
//
// The stream knows nothing of what its events mean: each goes to the handler for its `type`. A new
// kind of event is one more handler, checked by the compiler, not another copy of the resume and
// restart logic.
import type { Unsubscribable } from "@trpc/server/observable";
import { backoffDelay } from "../backoff";
import { isUnauthorized, toApiFailure } from "../errors";

/** Stored events carry an id to resume after; ephemeral ones (typing, presence) do not. */
export interface FeedDelivery<E> {
  id: string | undefined;
  event: E;
}

export interface FeedObserver<E> {
  onStarted(): void;
  onData(delivery: FeedDelivery<E>): void;
  /** The connection under the subscription dropped; it is being re-established. */
  onInterrupted(): void;
  onError(error: unknown): void;
  onComplete(): void;
}

/** Subscribes to the feed, resuming after `lastEventId` when there is one. */
export type FeedSource<E> = (lastEventId: string | null, observer: FeedObserver<E>) => Unsubscribable;

/** One handler per event type; leaving one out is a type error. `id`: a stored event's id (undefined: ephemeral). */
export type EventHandlers<E extends { type: string }> = { [K in E["type"]]: (event: Extract<E, { type: K }>, id: string | undefined) => void };

export interface LiveStreamDeps<E extends { type: string }> {
  source: FeedSource<E>;
  handlers: EventHandlers<E>;
  /** Live (true) or not (false). */
  onLiveChange(live: boolean): void;
  /** The feed (re)started with nothing to resume from: reload what may have been missed. */
  onResumeLost(): void;
  /** The feed (re)started: a chance to send what waited for the connection. */
  onStarted(): void;
  /** The server refused the connection's token; resolves to false when the session has ended. */
  onUnauthorized(): Promise<boolean>;
  /** Wait before subscribing again after the n-th failure in a row; backoff with jitter by default. */
  retryDelayMs?(failures: number): number;
}

export class LiveStream<E extends { type: string }> {
  private subscription: Unsubscribable | null = null;
  private lastEventId: string | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = true;

  constructor(private readonly deps: LiveStreamDeps<E>) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.subscribe();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private subscribe(): void {
    this.subscription?.unsubscribe();
    this.subscription = this.deps.source(this.lastEventId, {
      onStarted: () => {
        this.failures = 0;
        this.deps.onLiveChange(true);
        if (this.lastEventId === null) this.deps.onResumeLost();
        this.deps.onStarted();
      },
      onData: ({ id, event }) => {
        if (id !== undefined) this.lastEventId = id;
        this.dispatch(event, id);
      },
      onInterrupted: () => this.deps.onLiveChange(false),
      onError: (error) => {
        this.deps.onLiveChange(false);
        if (toApiFailure(error).code === "PRECONDITION_FAILED") {
          this.lastEventId = null;
          this.restart();
        } else if (isUnauthorized(error)) {
          this.deps.onUnauthorized().then(
            (stillSignedIn) => stillSignedIn && this.restart(),
            () => this.restart(),
          );
        } else {
          this.restart();
        }
      },
      onComplete: () => {
        this.deps.onLiveChange(false);
        this.restart();
      },
    });
  }

  private dispatch(event: E, id: string | undefined): void {
    // The mapped type guarantees a handler per type; TypeScript cannot follow the key to its event.
    const handler = this.deps.handlers[event.type as E["type"]] as (event: E, id: string | undefined) => void;
    handler(event, id);
  }

  private restart(): void {
    if (this.stopped || this.restartTimer) return;
    this.failures += 1;
    const delay = this.deps.retryDelayMs?.(this.failures) ?? backoffDelay(this.failures);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) this.subscribe();
    }, delay);
  }
}
