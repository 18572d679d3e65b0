// When the person's tabs say "away" and "active" again (presence.set), with a fake clock shared by
// the tabs of one process.
import { describe, expect, it } from "vitest";
import { ACTIVITY_SHARE_MS, AWAY_AFTER_MS, AwayReporter, type PresenceStatement } from "../src/presence/away-reporter";
import { MemoryPresenceTabs } from "../src/presence/presence-tabs";

/** One person's browser: tabs sharing activity, a clock and the calls they make to the server. */
function browser(options: { failing?: () => boolean } = {}) {
  let now = 1_000_000;
  const calls: { tab: number; status: PresenceStatement; at: number }[] = [];
  const timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  const shared = new MemoryPresenceTabs();
  const tabs: AwayReporter[] = [];
  const open = () => {
    const tab = tabs.length + 1;
    const reporter = new AwayReporter({
      tabs: shared.tab(),
      now: () => now,
      setTimer: (run, ms) => {
        const timer = { at: now + ms, run, cancelled: false };
        timers.push(timer);
        return () => void (timer.cancelled = true);
      },
      send: (status) => {
        calls.push({ tab, status, at: now });
        return options.failing?.() ? Promise.reject(new Error("offline")) : Promise.resolve({ ok: true });
      },
    });
    tabs.push(reporter);
    reporter.start();
    return reporter;
  };
  /** Moves the clock on, running each timer that falls due, in order. */
  const advance = (ms: number) => {
    const end = now + ms;
    for (let i = 0; i < 1_000; i += 1) {
      const due = timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      now = Math.max(now, due.at);
      due.run();
    }
    now = end;
  };
  const said = () => calls.map((c) => c.status);
  return { open, advance, calls, said, shared, now: () => now };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("AwayReporter", () => {
  it("says active when the app opens, and away once after five minutes without activity", () => {
    const { open, advance, said } = browser();
    open();
    expect(said()).toEqual(["active"]);
    advance(AWAY_AFTER_MS - 1);
    expect(said()).toEqual(["active"]);
    advance(ACTIVITY_SHARE_MS + 1);
    expect(said()).toEqual(["active", "away"]);
    advance(AWAY_AFTER_MS * 3);
    expect(said()).toEqual(["active", "away"]);
  });

  it("never says away sooner than five minutes after the last activity, even activity it did not record", () => {
    const { open, advance, calls, now } = browser();
    const tab = open();
    advance(ACTIVITY_SHARE_MS - 1);
    // Within the sharing interval: not recorded, but the person was there.
    tab.activity();
    const lastActivity = now();
    advance(AWAY_AFTER_MS * 2);
    const away = calls.find((c) => c.status === "away");
    expect(away!.at - lastActivity).toBeGreaterThanOrEqual(AWAY_AFTER_MS);
    expect(away!.at - lastActivity).toBeLessThanOrEqual(AWAY_AFTER_MS + ACTIVITY_SHARE_MS);
  });

  it("puts off away while the person keeps using the tab", () => {
    const { open, advance, said } = browser();
    const tab = open();
    for (let minute = 0; minute < 30; minute += 1) {
      advance(60_000);
      tab.activity();
    }
    expect(said()).toEqual(["active"]);
  });

  it("says active again at the first activity after away, once for a burst", () => {
    const { open, advance, said } = browser();
    const tab = open();
    advance(AWAY_AFTER_MS + ACTIVITY_SHARE_MS);
    expect(said()).toEqual(["active", "away"]);
    tab.activity();
    advance(10);
    tab.activity();
    advance(ACTIVITY_SHARE_MS);
    tab.activity();
    expect(said()).toEqual(["active", "away", "active"]);
  });

  it("never says away while another tab is in use, and says each change once, from one tab", () => {
    const { open, advance, calls, said } = browser();
    open();
    const second = open();
    // Only the second tab is used, for twenty minutes; the first (the leader) sits idle.
    for (let minute = 0; minute < 20; minute += 1) {
      advance(60_000);
      second.activity();
    }
    expect(said()).toEqual(["active"]);
    advance(AWAY_AFTER_MS + ACTIVITY_SHARE_MS);
    expect(said()).toEqual(["active", "away"]);
    second.activity();
    expect(said()).toEqual(["active", "away", "active"]);
    // The leader said all of it.
    expect(new Set(calls.map((c) => c.tab))).toEqual(new Set([1]));
  });

  it("hands over when the leading tab closes: the next one says what is due", () => {
    const { open, advance, calls, shared } = browser();
    const first = open();
    open();
    expect(shared.leadingTab).toBe(1);
    advance(60_000);
    first.dispose();
    expect(shared.leadingTab).toBe(2);
    // Taking over, it says the status once more (the server takes a repeat as nothing).
    expect(calls.at(-1)).toMatchObject({ tab: 2, status: "active" });
    advance(AWAY_AFTER_MS);
    expect(calls.at(-1)).toMatchObject({ tab: 2, status: "away" });
    expect(calls.filter((c) => c.status === "away")).toHaveLength(1);
  });

  it("says nothing more once disposed", () => {
    const { open, advance, said } = browser();
    const tab = open();
    tab.dispose();
    advance(AWAY_AFTER_MS * 2);
    tab.activity();
    tab.reconnected();
    expect(said()).toEqual(["active"]);
  });

  it("says the current status again when the leader's connection comes back: active mends an away the server kept", () => {
    const { open, advance, said } = browser();
    const tab = open();
    advance(AWAY_AFTER_MS + ACTIVITY_SHARE_MS);
    tab.activity();
    expect(said()).toEqual(["active", "away", "active"]);
    // That "active" may have been lost with the connection, or answered with none open.
    tab.reconnected();
    expect(said()).toEqual(["active", "away", "active", "active"]);
  });

  it("says away again after a reconnect while nobody is back: the server forgot it and took the person for online", () => {
    const { open, advance, said } = browser();
    const tab = open();
    advance(AWAY_AFTER_MS + ACTIVITY_SHARE_MS);
    tab.reconnected();
    expect(said()).toEqual(["active", "away", "away"]);
  });

  it("leaves a reconnect of a tab that does not lead to the leader", () => {
    const { open, said } = browser();
    open();
    const second = open();
    second.reconnected();
    expect(said()).toEqual(["active"]);
  });

  it("says a change again when the call failed: at the next activity", async () => {
    let failing = true;
    const { open, advance, said } = browser({ failing: () => failing });
    const tab = open();
    await settle();
    failing = false;
    advance(ACTIVITY_SHARE_MS);
    tab.activity();
    expect(said()).toEqual(["active", "active"]);
    advance(ACTIVITY_SHARE_MS);
    tab.activity();
    expect(said()).toEqual(["active", "active"]);
  });

  it("reports its status from every tab's activity", () => {
    const { open, advance } = browser();
    const first = open();
    const second = open();
    advance(AWAY_AFTER_MS);
    second.activity();
    advance(AWAY_AFTER_MS);
    expect(first.status).toBe("active");
    advance(ACTIVITY_SHARE_MS);
    expect(first.status).toBe("away");
  });
});

describe("MemoryPresenceTabs", () => {
  it("keeps the newest activity and tells the other tabs, not the one that recorded it", () => {
    const shared = new MemoryPresenceTabs();
    const a = shared.tab();
    const b = shared.tab();
    const heard: string[] = [];
    a.onActivity(() => heard.push("a"));
    b.onActivity(() => heard.push("b"));
    expect(a.lastActivity()).toBeNull();
    a.recordActivity(200);
    b.recordActivity(100);
    expect(b.lastActivity()).toBe(200);
    expect(heard).toEqual(["b"]);
  });

  it("lets one tab lead at a time, the next waiting one when it gives up", () => {
    const shared = new MemoryPresenceTabs();
    const led: string[] = [];
    const stopA = shared.tab().lead(() => led.push("a"));
    const stopB = shared.tab().lead(() => led.push("b"));
    const stopC = shared.tab().lead(() => led.push("c"));
    stopB();
    expect(led).toEqual(["a"]);
    stopA();
    expect(led).toEqual(["a", "c"]);
    stopC();
    expect(shared.leadingTab).toBeNull();
  });
});
