// Keeps the message.live subscription running. Each event is a message with its id as the event id;
// the wsLink resends the last id it saw as `lastEventId` when it reconnects, and the server replays
// what was missed. When the stream starts without such a point to resume from, anything sent before
// it began may be missing from what was loaded, so the caller refetches.
import type { TRPCClient } from "@trpc/client";
import type { Unsubscribable } from "@trpc/server/observable";
import type { AppRouter } from "@parley/api";
import { backoffDelay } from "../lib/backoff";
import { isUnauthorized } from "../lib/errors";
import type { Message } from "../lib/types";

export interface LiveSyncDeps {
  client: TRPCClient<AppRouter>;
  onMessage(message: Message): void;
  /** Live (true) or not (false). */
  onLiveChange(live: boolean): void;
  /** The stream (re)started with nothing to resume from: reload what may have been missed. */
  onStartedWithoutResume(): void;
  /** The stream (re)started: a chance to send what waited for the connection. */
  onStarted(): void;
  /** The server refused the connection's token; resolves to false when the session has ended. */
  onUnauthorized(): Promise<boolean>;
}

export class LiveSync {
  private subscription: Unsubscribable | null = null;
  private lastEventId: string | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = true;

  constructor(private readonly deps: LiveSyncDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.subscribe();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private subscribe(): void {
    this.subscription?.unsubscribe();
    const resumeFrom = this.lastEventId;
    this.subscription = this.deps.client.message.live.subscribe(resumeFrom ? { lastEventId: resumeFrom } : undefined, {
      onStarted: () => {
        this.failures = 0;
        this.deps.onLiveChange(true);
        if (this.lastEventId === null) this.deps.onStartedWithoutResume();
        this.deps.onStarted();
      },
      onData: ({ id, data }) => {
        this.lastEventId = id;
        this.deps.onMessage(data);
      },
      onConnectionStateChange: (state) => {
        if (state.state !== "pending") this.deps.onLiveChange(false);
      },
      onError: (error) => {
        this.deps.onLiveChange(false);
        if (isUnauthorized(error)) {
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

  private restart(): void {
    if (this.stopped || this.restartTimer) return;
    this.failures += 1;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) this.subscribe();
    }, backoffDelay(this.failures));
  }
}
