// What the tabs of one signed-in person share for "away": when any of them last saw activity, and
// which one of them speaks for all (so that a change is said once, not once per tab). In a browser
// that is localStorage with its storage event, and a Web Lock held by the speaking tab; in Node, or
// in tests, tabs of one process share memory.

export interface PresenceTabs {
  /** When any tab last recorded activity (ms since the epoch); null when none has. */
  lastActivity(): number | null;
  /** Records this tab's activity for all of them (a time older than the one recorded changes nothing). */
  recordActivity(at: number): void;
  /** Calls `listener` when another tab records activity. Returns the function that stops listening. */
  onActivity(listener: () => void): () => void;
  /**
   * Asks to be the tab that speaks for all: `onLeading` is called once, when this tab is it (at
   * once, or when the one before it goes). Returns the function that gives the role up, or stops
   * waiting for it.
   */
  lead(onLeading: () => void): () => void;
}

/**
 * Tabs within one process: for Node and for tests. Each `tab()` is one tab's view of the same
 * activity; the first to ask leads, and when it gives up the next one waiting does.
 */
export class MemoryPresenceTabs {
  private last: number | null = null;
  private readonly listeners = new Set<{ tab: number; listener: () => void }>();
  private readonly waiting: { tab: number; onLeading: () => void }[] = [];
  private leader: number | null = null;
  private tabs = 0;

  tab(): PresenceTabs {
    const tab = (this.tabs += 1);
    return {
      lastActivity: () => this.last,
      recordActivity: (at) => {
        if (this.last !== null && at <= this.last) return;
        this.last = at;
        for (const entry of [...this.listeners]) if (entry.tab !== tab) entry.listener();
      },
      onActivity: (listener) => {
        const entry = { tab, listener };
        this.listeners.add(entry);
        return () => this.listeners.delete(entry);
      },
      lead: (onLeading) => {
        const entry = { tab, onLeading };
        this.waiting.push(entry);
        this.handOver();
        return () => {
          const index = this.waiting.indexOf(entry);
          if (index !== -1) this.waiting.splice(index, 1);
          if (this.leader === tab) {
            this.leader = null;
            this.handOver();
          }
        };
      },
    };
  }

  /** Which tab leads now (numbered from 1 in the order they were made); null when none does. Tests read it. */
  get leadingTab(): number | null {
    return this.leader;
  }

  private handOver(): void {
    if (this.leader !== null) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.leader = next.tab;
    next.onLeading();
  }
}

/**
 * The tabs of this browser signed in as `userId`: the last activity in localStorage (its storage
 * event tells the other tabs), the speaking tab chosen by a Web Lock, which passes to another tab
 * when the holder closes. Without localStorage (refused in some private modes) the tab shares
 * nothing; without Web Locks (not a secure context) every tab speaks for itself, so a change may be
 * said once per tab, which the server takes as one.
 */
export function browserPresenceTabs(userId: string): PresenceTabs & { forget(): void } {
  const key = `parley.activity.${userId}`;
  const storage = localStorageOrNull();
  // This tab's own record, for when storage refuses to keep it.
  let own: number | null = null;
  const stored = (): number | null => {
    const value = Number(storage?.getItem(key) ?? Number.NaN);
    return Number.isFinite(value) ? value : null;
  };
  const lastActivity = () => {
    const shared = stored();
    return shared === null ? own : own === null ? shared : Math.max(own, shared);
  };
  return {
    lastActivity,
    /** Deletes the record (signing out: the browser keeps nothing of the user). */
    forget() {
      own = null;
      try {
        storage?.removeItem(key);
      } catch {
        // Refused: nothing was kept either.
      }
    },
    recordActivity(at) {
      const last = lastActivity();
      if (last !== null && at <= last) return;
      own = at;
      try {
        storage?.setItem(key, String(at));
      } catch {
        // Full or refused: this tab goes on by its own record.
      }
    },
    onActivity(listener) {
      const onStorage = (event: StorageEvent) => {
        if (event.key === key) listener();
      };
      window.addEventListener("storage", onStorage);
      return () => window.removeEventListener("storage", onStorage);
    },
    lead(onLeading) {
      const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
      if (!locks) {
        onLeading();
        return () => undefined;
      }
      const stop = new AbortController();
      let release: (() => void) | null = null;
      locks
        .request(`parley.presence.${userId}`, { signal: stop.signal }, () => {
          onLeading();
          // Held until given up: the lock passes to the next tab when this one closes.
          return new Promise<void>((resolve) => (release = resolve));
        })
        .catch(() => {
          // Aborted while waiting: this tab was closed or signed out before its turn.
        });
      return () => {
        if (release) release();
        else stop.abort();
      };
    },
  };
}

function localStorageOrNull(): Storage | null {
  try {
    return typeof localStorage !== "undefined" ? localStorage : null;
  } catch {
    // Refused (some private modes, or storage disabled).
    return null;
  }
}
