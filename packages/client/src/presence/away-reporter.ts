// Saying "away" (presence.set) when the person has not used any of their tabs for a while, and
// "active" again at their first activity in any of them.
//
// Every tab records activity where all of them see it (PresenceTabs), at most once per
// ACTIVITY_SHARE_MS; one tab, the leader, decides from the latest record and is the only one that
// calls the server, so a tab left idle while another is in use never says away, and a change is
// said once however many tabs are open. When the leader goes (closed, signed out), another takes
// over and says what the records say, which the server takes as no change when it is none.
//
// The server holds a statement while the person has a connection (and 10 s after the last one
// closes), answers one made with no connection open without keeping it, and forgets it when they
// go offline: they come back online, not away. So whenever the leader's live feed (re)starts
// (reconnected), it says the current status once more: "active" mends an "away" the server kept
// while our "active" was lost with the connection; "away" is true for someone who has not come
// back, and costs nothing when the server still has it. Repeating the status it has costs the
// server nothing, and counts against no limit.

import type { PresenceTabs } from "./presence-tabs";
import { realTimer, type SetTimer } from "../timers";

/** The contract's "active" | "away" of presence.set. */
export type PresenceStatement = "active" | "away";

/** With no activity in any tab for this long, the person is away. */
export const AWAY_AFTER_MS = 5 * 60_000;
/**
 * A tab records its activity for the others at most this often (a mouse moving fires many events a
 * second). Away is said this much after AWAY_AFTER_MS, so that activity just after a record, not
 * recorded, still counts: no one is called away sooner than AWAY_AFTER_MS after their last activity.
 */
export const ACTIVITY_SHARE_MS = 5_000;

export interface AwayReporterDeps {
  /** Tells the server (presence.set). */
  send(status: PresenceStatement): Promise<unknown>;
  /** The person's other tabs, or just this one. */
  tabs: PresenceTabs;
  /** Date.now by default. */
  now?(): number;
  /** Runs `run` after `ms` (setTimeout by default); returns a cancel. */
  setTimer?(run: () => void, ms: number): () => void;
}

export class AwayReporter {
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  /** When this tab last recorded activity for the others. */
  private lastShared = Number.NEGATIVE_INFINITY;
  private leading = false;
  /** What this tab last told the server as the leader; null when nothing yet, or that call failed. */
  private said: PresenceStatement | null = null;
  private cancelCheck: (() => void) | null = null;
  private readonly stops: (() => void)[] = [];
  private started = false;
  private disposed = false;

  constructor(private readonly deps: AwayReporterDeps) {
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimer ?? realTimer;
  }

  /** Opening the app counts as activity; then this tab follows the others and waits its turn to lead. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.activity();
    this.stops.push(this.deps.tabs.onActivity(() => this.review()));
    this.stops.push(
      this.deps.tabs.lead(() => {
        this.leading = true;
        this.review();
      }),
    );
  }

  /** The person used this tab: a key, the pointer, focus, the tab shown again. Call it freely. */
  activity(): void {
    if (!this.started || this.disposed) return;
    const now = this.now();
    if (now - this.lastShared < ACTIVITY_SHARE_MS) return;
    this.lastShared = now;
    this.deps.tabs.recordActivity(now);
    this.review();
  }

  /** This tab's live connection (re)started: the server may have forgotten what was said, or missed it. */
  reconnected(): void {
    this.said = null;
    this.review();
  }

  /** What the tabs' activity says now. */
  get status(): PresenceStatement {
    return this.now() >= this.awayAt() ? "away" : "active";
  }

  /** Stops listening and gives up leading (another tab takes over). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cancelCheck?.();
    for (const stop of this.stops.splice(0)) stop();
  }

  private awayAt(): number {
    const last = this.deps.tabs.lastActivity();
    return last === null ? Number.NEGATIVE_INFINITY : last + AWAY_AFTER_MS + ACTIVITY_SHARE_MS;
  }

  /** The leader says what changed, and looks again when the person would become away. */
  private review(): void {
    if (!this.leading || this.disposed) return;
    this.cancelCheck?.();
    this.cancelCheck = null;
    const status = this.status;
    if (status !== this.said) this.say(status);
    if (status === "active") {
      this.cancelCheck = this.setTimer(() => {
        this.cancelCheck = null;
        this.review();
      }, this.awayAt() - this.now());
    }
  }

  private say(status: PresenceStatement): void {
    this.said = status;
    this.deps.send(status).catch(() => {
      // Not told (offline, refused): the next activity, check or reconnect says it again.
      if (this.said === status) this.said = null;
    });
  }
}
