import { describe, expect, it, vi } from "vitest";
import { ACCOUNT_DEACTIVATED_MESSAGE, SESSION_ENDED_MESSAGE } from "../src/errors";
import type { Tokens } from "../src/types";
import type { SessionMessage } from "../src/session/coordination";
import { Session, type RefreshOutcome, type SessionDeps } from "../src/session/session";
import type { SessionStore, StoredSession } from "../src/session/store";
import { fakeJwt } from "./helpers";

/** What the tabs of one browser share: the session store, locks and a broadcast channel. */
class FakeBrowser {
  stored: StoredSession | null = null;
  readonly store: SessionStore = {
    read: async () => (this.stored ? { ...this.stored } : null),
    write: async (session) => {
      this.stored = { ...session };
    },
    clear: async () => {
      this.stored = null;
    },
  };
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly tabs = new Set<(m: SessionMessage) => void>();
  now = 1_000_000;

  withLock = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    this.locks.set(name, run.catch(() => undefined));
    return run;
  };

  channelFor() {
    let own: ((m: SessionMessage) => void) | null = null;
    return {
      post: (m: SessionMessage) => {
        for (const listener of this.tabs) if (listener !== own) queueMicrotask(() => listener(m));
      },
      listen: (onMessage: (m: SessionMessage) => void) => {
        own = onMessage;
        this.tabs.add(onMessage);
        return () => this.tabs.delete(onMessage);
      },
    };
  }
}

let serial = 0;
function tokens(userId = "u1", lifetime = 1800): Tokens {
  serial += 1;
  return { accessToken: fakeJwt({ sub: userId, iat: serial, exp: serial + lifetime }), refreshToken: `refresh-${serial}` };
}

/** A server that rotates refresh tokens and ends the session when a used one comes back. */
class FakeAuthServer {
  private valid = new Set<string>();
  revoked = false;
  /** What the server's refusal says (an account deactivated), if anything. */
  refusalNotice: string | undefined;
  calls: string[] = [];
  reachable = true;

  issue(): Tokens {
    const t = tokens();
    this.valid.add(t.refreshToken);
    return t;
  }

  refresh = async (refreshToken: string): Promise<RefreshOutcome> => {
    this.calls.push(refreshToken);
    await new Promise((r) => setTimeout(r, 5));
    if (!this.reachable) return { ok: false, rejected: false };
    if (this.revoked || !this.valid.has(refreshToken)) {
      this.revoked = true;
      return this.refusalNotice ? { ok: false, rejected: true, notice: this.refusalNotice } : { ok: false, rejected: true };
    }
    this.valid.delete(refreshToken);
    return { ok: true, tokens: this.issue() };
  };
}

async function openTab(browser: FakeBrowser, server: FakeAuthServer, overrides: Partial<SessionDeps> = {}): Promise<Session> {
  const session = new Session({
    store: browser.store,
    withLock: browser.withLock,
    channel: browser.channelFor(),
    refresh: server.refresh,
    logout: async () => undefined,
    now: () => browser.now,
    setTimer: () => null,
    clearTimer: () => undefined,
    ...overrides,
  });
  await session.start();
  return session;
}

describe("Session", () => {
  it("keeps the session across a reload", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    await (await openTab(browser, server)).signIn(server.issue());
    const reloaded = await openTab(browser, server);
    expect(reloaded.getState()).toMatchObject({ status: "signedIn", userId: "u1" });
  });

  it("refreshes once when several tabs find the token due at the same time", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const first = await openTab(browser, server);
    await first.signIn(server.issue());
    const tabs = [first, await openTab(browser, server), await openTab(browser, server)];
    const stale = first.currentAccessToken();

    const results = await Promise.all(tabs.map((tab) => tab.refresh(stale)));

    expect(server.calls).toHaveLength(1);
    expect(server.revoked).toBe(false);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).not.toBe(stale);
    for (const tab of tabs) expect(tab.currentAccessToken()).toBe(results[0]);
  });

  it("re-reads the refresh token inside the lock, never presenting a used one", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const b = await openTab(browser, server);
    const staleForA = a.currentAccessToken();
    await b.refresh(b.currentAccessToken());
    // The new token's refresh time has come too: a refreshes, using what b stored.
    browser.now += 3_600_000;
    await a.refresh(staleForA);
    expect(server.revoked).toBe(false);
    expect(server.calls).toHaveLength(2);
    expect(server.calls[1]).not.toBe(server.calls[0]);
  });

  it("tells the other tabs about new tokens", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const b = await openTab(browser, server);
    const fresh = await a.refresh(a.currentAccessToken());
    await vi.waitFor(() => expect(b.currentAccessToken()).toBe(fresh));
  });

  it("returns the token another tab obtained instead of refreshing again after UNAUTHORIZED", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const old = a.currentAccessToken();
    const b = await openTab(browser, server);
    await b.refresh(old);
    expect(await a.refresh(old)).toBe(b.currentAccessToken());
    expect(server.calls).toHaveLength(1);
  });

  it("ends the session in every tab, with a message, when the refresh token is refused", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const b = await openTab(browser, server);
    server.revoked = true;

    expect(await a.refresh(a.currentAccessToken())).toBeNull();

    expect(a.getState()).toEqual({ status: "signedOut", notice: SESSION_ENDED_MESSAGE });
    expect(browser.stored).toBeNull();
    await vi.waitFor(() => expect(b.getState()).toEqual({ status: "signedOut", notice: SESSION_ENDED_MESSAGE }));
  });

  it("tells every tab why the server ended the session, when it said (a deactivated account)", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const b = await openTab(browser, server);
    server.revoked = true;
    server.refusalNotice = ACCOUNT_DEACTIVATED_MESSAGE;
    expect(await a.refresh(a.currentAccessToken())).toBeNull();
    expect(a.getState()).toEqual({ status: "signedOut", notice: ACCOUNT_DEACTIVATED_MESSAGE });
    await vi.waitFor(() => expect(b.getState()).toEqual({ status: "signedOut", notice: ACCOUNT_DEACTIVATED_MESSAGE }));
  });

  it("keeps the session when the server cannot be reached, and says so to the caller", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    server.reachable = false;
    await expect(a.refresh(a.currentAccessToken())).rejects.toThrow();
    expect(a.getState().status).toBe("signedIn");
    expect(browser.stored).not.toBeNull();
  });

  it("refreshes before handing out a token that is about to expire", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const first = await a.accessToken();
    expect(server.calls).toHaveLength(0);
    browser.now += 29.5 * 60_000;
    const second = await a.accessToken();
    expect(server.calls).toHaveLength(1);
    expect(second).not.toBe(first);
  });

  it("schedules the refresh shortly before expiry", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const delays: number[] = [];
    const a = await openTab(browser, server, { setTimer: (_fn, ms) => delays.push(ms) });
    await a.signIn(server.issue());
    expect(delays.at(-1)).toBe(29 * 60_000);
  });

  it("logs out every tab and revokes the refresh token", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const loggedOut: string[] = [];
    const a = await openTab(browser, server, { logout: async (t) => void loggedOut.push(t) });
    const issued = server.issue();
    await a.signIn(issued);
    const b = await openTab(browser, server);
    await a.signOut();
    expect(a.getState()).toEqual({ status: "signedOut", notice: null });
    expect(loggedOut).toEqual([issued.refreshToken]);
    await vi.waitFor(() => expect(b.getState().status).toBe("signedOut"));
  });

  it("signs in a tab when another tab logs in", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    const b = await openTab(browser, server);
    await a.signIn(server.issue());
    await vi.waitFor(() => expect(b.getState().status).toBe("signedIn"));
  });
});

describe("Session, when tabs race", () => {
  it("keeps the explanation in a tab that was waiting to refresh when another tab saw the session end", async () => {
    const browser = new FakeBrowser();
    const server = new FakeAuthServer();
    const a = await openTab(browser, server);
    await a.signIn(server.issue());
    const b = await openTab(browser, server);
    server.revoked = true;
    const stale = a.currentAccessToken();
    await Promise.all([a.refresh(stale), b.refresh(stale)]);
    await new Promise((r) => setTimeout(r, 0));
    for (const tab of [a, b]) expect(tab.getState()).toEqual({ status: "signedOut", notice: SESSION_ENDED_MESSAGE });
    expect(server.calls).toHaveLength(1);
  });
});

describe("Session, starting up", () => {
  it("is loading until the store has been read, then signed out when nothing is stored", async () => {
    const browser = new FakeBrowser();
    const session = new Session({
      store: browser.store,
      withLock: browser.withLock,
      channel: browser.channelFor(),
      refresh: new FakeAuthServer().refresh,
      logout: async () => undefined,
      now: () => browser.now,
      setTimer: () => null,
      clearTimer: () => undefined,
    });
    expect(session.getState()).toEqual({ status: "loading" });
    await session.start();
    expect(session.getState()).toEqual({ status: "signedOut", notice: null });
  });
});
