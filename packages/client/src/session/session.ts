// The login session: of a browser, shared by all of its tabs; or of one process (a bot, a script).
//
// Refresh tokens are single use, and presenting a used one again ends the whole session, so
// refreshing is serialised across tabs with a lock (Web Locks API), the stored token is re-read
// inside the lock, and the new pair is stored before the lock is released (see store.ts for why the
// store is IndexedDB). Other tabs hear about new tokens and logouts on a BroadcastChannel and
// re-read the store.
import { backoffDelay } from "../backoff";
import { SESSION_ENDED_MESSAGE } from "../errors";
import { decodeJwtClaims } from "../jwt";
import { isRefreshDue, refreshDelay, tokenTiming, type TokenTiming } from "../refresh-schedule";
import type { Tokens } from "../types";
import type { LockRunner, SessionChannel } from "./coordination";
import type { SessionStore, StoredSession } from "./store";

const LOCK_NAME = "parley.session.refresh";

export type SessionState =
  /** The store has not been read yet. */
  | { status: "loading" }
  | { status: "signedOut"; notice: string | null }
  | { status: "signedIn"; userId: string; accessToken: string };

/** `notice`: what to tell the person when the refusal ends the session (SESSION_ENDED_MESSAGE when absent). */
export type RefreshOutcome = { ok: true; tokens: Tokens } | { ok: false; rejected: boolean; notice?: string };

export interface SessionDeps {
  store: SessionStore;
  /** Runs fn while holding the named lock, across every tab of this origin. */
  withLock: LockRunner;
  /** Tells the other tabs. */
  channel: SessionChannel;
  /** auth.refresh; `rejected` when the server refused the token, not when it was unreachable. */
  refresh(refreshToken: string): Promise<RefreshOutcome>;
  /** auth.logout, best effort. */
  logout(refreshToken: string): Promise<void>;
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export class Session {
  private state: SessionState = { status: "loading" };
  private timing: TokenTiming | null = null;
  private readonly listeners = new Set<() => void>();
  private refreshing: Promise<string | null> | null = null;
  private timer: unknown = null;
  private failedRefreshes = 0;
  private stopListening: (() => void) | null = null;

  constructor(private readonly deps: SessionDeps) {}

  /** Reads the stored session and starts following other tabs. */
  async start(): Promise<void> {
    this.stopListening ??= this.deps.channel.listen((message) => void this.followStore(message.notice));
    await this.followStore(null);
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = null;
    this.cancelTimer();
  }

  getState = (): SessionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Stores tokens from auth.login and tells the other tabs. */
  async signIn(tokens: Tokens): Promise<void> {
    await this.deps.withLock(LOCK_NAME, () => this.store(tokens));
    this.deps.channel.post({ type: "changed", notice: null });
  }

  /** An access token that is not about to expire, refreshing first when needed; null when signed out. */
  async accessToken(): Promise<string | null> {
    if (this.state.status !== "signedIn") return null;
    if (!isRefreshDue(this.timing, this.deps.now())) return this.state.accessToken;
    try {
      return await this.refresh(this.state.accessToken);
    } catch {
      // Unreachable: the current token may still be good for a while, and the call will say.
      return this.currentAccessToken();
    }
  }

  /** The access token in use right now, without refreshing. */
  currentAccessToken(): string | null {
    return this.state.status === "signedIn" ? this.state.accessToken : null;
  }

  /**
   * Replaces `staleToken` (one that is due, or was refused) with a fresh access token. Resolves to
   * null when the session has ended; throws when the server could not be reached.
   */
  refresh(staleToken: string | null): Promise<string | null> {
    this.refreshing ??= this.deps
      .withLock(LOCK_NAME, () => this.refreshHoldingLock(staleToken))
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** Logs out here and in every other tab. */
  async signOut(): Promise<void> {
    const stored = await this.deps.withLock(LOCK_NAME, async () => {
      const current = await this.deps.store.read();
      await this.deps.store.clear();
      return current;
    });
    this.deps.channel.post({ type: "changed", notice: null });
    this.setSignedOut(null);
    if (stored) await this.deps.logout(stored.refreshToken).catch(() => undefined);
  }

  /** When the tab wakes up (visible again, back online), timers may have been held back. */
  checkNow(): void {
    if (this.state.status === "signedIn" && isRefreshDue(this.timing, this.deps.now())) this.refreshInBackground();
  }

  private async refreshHoldingLock(staleToken: string | null): Promise<string | null> {
    const stored = await this.deps.store.read();
    if (!stored) {
      // Another tab logged out or saw the session end (and said so) while this one waited.
      if (this.state.status === "signedIn") this.setSignedOut(SESSION_ENDED_MESSAGE);
      return null;
    }
    // Another tab may have refreshed while this one waited for the lock.
    if (stored.accessToken !== staleToken && !isRefreshDue(tokenTiming(stored.accessToken, stored.receivedAt), this.deps.now())) {
      this.adopt(stored);
      return stored.accessToken;
    }
    const outcome = await this.deps.refresh(stored.refreshToken);
    if (!outcome.ok) {
      if (!outcome.rejected) throw new Error("The server could not be reached to refresh the session");
      // Still ours to remove: no other tab can write while this one holds the lock.
      await this.deps.store.clear();
      const notice = outcome.notice ?? SESSION_ENDED_MESSAGE;
      this.deps.channel.post({ type: "changed", notice });
      this.setSignedOut(notice);
      return null;
    }
    await this.store(outcome.tokens);
    this.deps.channel.post({ type: "changed", notice: null });
    return outcome.tokens.accessToken;
  }

  /** Stores a new pair; resolves once every tab would read it. Call while holding the lock. */
  private async store(tokens: Tokens): Promise<void> {
    const stored: StoredSession = { ...tokens, receivedAt: this.deps.now() };
    await this.deps.store.write(stored);
    this.adopt(stored);
  }

  /** Follows what is stored: another tab logged in, refreshed, or logged out. */
  private async followStore(notice: string | null): Promise<void> {
    const stored = await this.deps.store.read();
    if (stored) this.adopt(stored);
    else if (this.state.status !== "signedOut" || notice) this.setSignedOut(notice);
  }

  private adopt(stored: StoredSession): void {
    const userId = decodeJwtClaims(stored.accessToken)?.sub;
    if (!userId) {
      this.setSignedOut(null);
      return;
    }
    this.timing = tokenTiming(stored.accessToken, stored.receivedAt);
    this.failedRefreshes = 0;
    if (this.state.status !== "signedIn" || this.state.accessToken !== stored.accessToken) {
      this.setState({ status: "signedIn", userId, accessToken: stored.accessToken });
    }
    this.schedule(refreshDelay(this.timing, this.deps.now()));
  }

  private setSignedOut(notice: string | null): void {
    this.cancelTimer();
    this.timing = null;
    this.setState({ status: "signedOut", notice });
  }

  private setState(state: SessionState): void {
    this.state = state;
    for (const listener of [...this.listeners]) listener();
  }

  private schedule(delayMs: number): void {
    this.cancelTimer();
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.refreshInBackground();
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
  }

  private refreshInBackground(): void {
    if (this.state.status !== "signedIn") return;
    this.refresh(this.state.accessToken).catch(() => {
      // Unreachable: try again with backoff; a reconnect or a request will also try.
      this.failedRefreshes += 1;
      if (this.state.status === "signedIn") this.schedule(backoffDelay(this.failedRefreshes, { baseMs: 1000 }));
    });
  }
}
