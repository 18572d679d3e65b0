import type { PrismaClient } from "@parley/db";
import type { Clock } from "../clock.js";
import type { EventBus } from "../live/event-bus.js";

/**
 * Sessions ended before their access tokens expire (logout, refresh-token reuse). Access tokens
 * are checked against this in memory on every call - no database round trip - and every instance
 * hears of a revocation through the event bus. Entries are dropped once no access token of the
 * session can still be valid.
 */
export class RevokedSessions {
  private readonly expiresAt = new Map<string, number>();
  /** Live subscriptions that end with their session, by session id: one bus listener for all of them. */
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly clock: Clock,
  ) {
    this.unsubscribe = bus.subscribe((event) => {
      if (event.type === "session-revoked") this.add(event.sessionId, event.expiresAt);
    });
  }

  /** At start-up: the sessions revoked recently enough that their access tokens may still be live. */
  async loadRecent(db: PrismaClient, accessTtlSeconds: number): Promise<void> {
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
  }

  add(sessionId: string, expiresAt: number): void {
    this.expiresAt.set(sessionId, expiresAt);
    const watchers = this.watchers.get(sessionId);
    this.watchers.delete(sessionId);
    for (const onRevoked of watchers ?? []) onRevoked();
  }

  /** How many sessions are watched now (every open connection watches its own): what this holds in memory. */
  get watchedSessions(): number {
    return this.watchers.size;
  }

  /** Calls `onRevoked` once when the session is revoked (on any instance); returns the function that stops watching. */
  watch(sessionId: string, onRevoked: () => void): () => void {
    let watchers = this.watchers.get(sessionId);
    if (!watchers) {
      watchers = new Set();
      this.watchers.set(sessionId, watchers);
    }
    watchers.add(onRevoked);
    return () => {
      const current = this.watchers.get(sessionId);
      if (!current) return;
      current.delete(onRevoked);
      if (current.size === 0) this.watchers.delete(sessionId);
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
