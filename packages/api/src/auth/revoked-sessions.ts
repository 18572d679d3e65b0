import type { PrismaClient } from "@parley/db";
import type { Clock } from "../clock.js";
import type { EventBus } from "../live/event-bus.js";

/**
 * Sessions ended before their access tokens expire (logout, refresh-token reuse), and users an admin
 * deactivated. Access tokens are checked against this in memory on every call - no database round
 * trip - and every instance hears of a revocation through the event bus. Entries are dropped once
 * no access token of the session (or user) can still be valid.
 */
/**
 * A deactivated user's tokens are refused this much past the lifetime of the last ones issued before
 * it: a login that passed its check just before the deactivation committed gets a token a moment later.
 */
export const DEACTIVATION_MARGIN_MS = 60_000;

export class RevokedSessions {
  private readonly expiresAt = new Map<string, number>();
  /** Deactivated users, until every access token they held has expired. */
  private readonly deactivatedUntil = new Map<string, number>();
  /** Live subscriptions that end with their session (key `s:<id>`) or user (`u:<id>`): one bus listener for all of them. */
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;
  /** Reads the database again (set by loadRecent): after the bus may have lost messages. */
  private reload: (() => Promise<void>) | null = null;

  constructor(
    bus: EventBus,
    private readonly clock: Clock,
    private readonly onReloadError: (error: unknown) => void = () => undefined,
  ) {
    this.unsubscribe = bus.subscribe((event) => {
      if (event.type === "session-revoked") this.add(event.sessionId, event.expiresAt);
      else if (event.type === "user-deactivated") this.deactivate(event.userId, event.sessionIds, event.expiresAt);
      else if (event.type === "user-reactivated") this.reactivate(event.userId);
      // The bus's link came back: revocations and deactivations announced meanwhile were lost.
      else if (event.type === "resync") this.reload?.().catch(this.onReloadError);
    });
  }

  /**
   * At start-up, and again whenever the bus may have lost messages: the sessions revoked and the
   * users deactivated recently enough that their access tokens may still be live.
   */
  async loadRecent(db: PrismaClient, accessTtlSeconds: number): Promise<void> {
    this.reload = () => this.loadRecent(db, accessTtlSeconds);
    const since = new Date(this.clock.now().getTime() - accessTtlSeconds * 1000);
    // Stryker disable next-line ObjectLiteral: without the filter every session is read, those never revoked are skipped below and has() drops the expired - slower, not different
    const rows = await db.session.findMany({
      // Stryker disable next-line ObjectLiteral: as above
      where: { revokedAt: { gte: since } },
      select: { id: true, revokedAt: true },
    });
    for (const row of rows) {
      if (row.revokedAt) this.add(row.id, row.revokedAt.getTime() + accessTtlSeconds * 1000);
    }
    const users = await db.user.findMany({ where: { deactivatedAt: { gte: new Date(since.getTime() - DEACTIVATION_MARGIN_MS) } }, select: { id: true, deactivatedAt: true } });
    const deactivated = new Set(users.map((user) => user.id));
    // Reactivated since (a message this instance missed): their new sessions' tokens are good.
    for (const userId of this.deactivatedUntil.keys()) if (!deactivated.has(userId)) this.deactivatedUntil.delete(userId);
    for (const user of users) {
      if (!user.deactivatedAt) continue;
      this.deactivatedUntil.set(user.id, user.deactivatedAt.getTime() + accessTtlSeconds * 1000 + DEACTIVATION_MARGIN_MS);
      this.fire(`u:${user.id}`);
    }
  }

  add(sessionId: string, expiresAt: number): void {
    this.expiresAt.set(sessionId, expiresAt);
    this.fire(`s:${sessionId}`);
  }

  /** Ends every access token of the user until `expiresAt`, and those of `sessionIds` for good. */
  deactivate(userId: string, sessionIds: readonly string[], expiresAt: number): void {
    for (const sessionId of sessionIds) this.add(sessionId, expiresAt);
    this.deactivatedUntil.set(userId, expiresAt);
    this.fire(`u:${userId}`);
  }

  /** Tokens of the user's new sessions work again; the sessions ended by the deactivation stay ended. */
  reactivate(userId: string): void {
    this.deactivatedUntil.delete(userId);
  }

  isDeactivated(userId: string): boolean {
    const until = this.deactivatedUntil.get(userId);
    if (until === undefined) return false;
    if (until < this.clock.now().getTime()) {
      this.deactivatedUntil.delete(userId);
      return false;
    }
    return true;
  }

  private fire(key: string): void {
    const watchers = this.watchers.get(key);
    this.watchers.delete(key);
    for (const onRevoked of watchers ?? []) onRevoked();
  }

  /** How many sessions are watched now (every open connection watches its own): what this holds in memory. */
  get watchedSessions(): number {
    let sessions = 0;
    for (const key of this.watchers.keys()) if (key.startsWith("s:")) sessions += 1;
    return sessions;
  }

  /**
   * Calls `onRevoked` when the session is revoked or, given `userId`, the user deactivated (on any
   * instance); returns the function that stops watching.
   */
  watch(sessionId: string, onRevoked: () => void, userId?: string): () => void {
    const keys = userId === undefined ? [`s:${sessionId}`] : [`s:${sessionId}`, `u:${userId}`];
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      onRevoked();
    };
    for (const key of keys) {
      let watchers = this.watchers.get(key);
      if (!watchers) {
        watchers = new Set();
        this.watchers.set(key, watchers);
      }
      watchers.add(once);
    }
    return () => {
      for (const key of keys) {
        const current = this.watchers.get(key);
        if (!current) continue;
        current.delete(once);
        if (current.size === 0) this.watchers.delete(key);
      }
    };
  }

  has(sessionId: string): boolean {
    const until = this.expiresAt.get(sessionId);
    if (until === undefined) return false;
    if (until < this.clock.now().getTime()) {
      this.expiresAt.delete(sessionId);
      return false;
    }
    return true;
  }

  close(): void {
    this.unsubscribe();
  }
}
