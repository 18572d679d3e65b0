// Away and back, in real browsers: Marco has two tabs open and Lena watches his presence in their
// direct conversation. His browser's clock is Playwright's, moved on by the test, so five idle
// minutes take a moment; the server's clock is real.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { conversationLink, openConversation, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let lena: { context: BrowserContext; page: Page };
let marco: { context: BrowserContext; page: Page };
let marcosSecondTab: Page;
/** What Marco's tabs said with presence.set, in order, and from which tab. */
const said: { tab: "first" | "second"; status: string }[] = [];

/** Live changes cross two browsers and a server on a loaded machine: wait for them this long. */
const LIVE = { timeout: 10_000 };

/** Marco's presence as Lena sees it: the dot in her list and its words, and the conversation's subtitle. */
async function marcoAsLenaSeesHim(): Promise<{ dot: string | null; words: string | null; subtitle: string | null }> {
  const link = conversationLink(lena.page, "Marco Rossi");
  return {
    dot: await link.locator("[data-presence]").getAttribute("data-presence"),
    words: await link.locator(".conv__top .sr-only").textContent(),
    subtitle: await lena.page.locator(".conversation__subtitle").textContent(),
  };
}

const ONLINE = { dot: "online", words: ", online", subtitle: "@marco · Online" };
const AWAY = { dot: "away", words: ", away", subtitle: "@marco · Away" };

function recordPresenceCalls(page: Page, tab: "first" | "second"): void {
  page.on("request", (request) => {
    if (!request.url().includes("/trpc/presence.set")) return;
    const body = JSON.parse(request.postData() ?? "{}") as { status?: string };
    said.push({ tab, status: body.status ?? "?" });
  });
}

/** What Marco's tabs said since `from` (an index into `said`). */
const saidSince = (from: number) => said.slice(from).map((s) => `${s.tab}: ${s.status}`);

/** Waits until `tab`'s record of the last activity has reached `other` (storage reaches other tabs a moment later). */
async function activityShared(tab: Page, other: Page): Promise<void> {
  const value = await tab.evaluate(() => Object.entries(localStorage).find(([key]) => key.startsWith("parley.activity."))?.[1]);
  expect(value).toBeDefined();
  await other.waitForFunction((expected) => Object.entries(localStorage).some(([key, v]) => key.startsWith("parley.activity.") && v === expected), value);
}

/** A moment of real time, for anything a fast-forward set off to reach the server. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Away in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    marco = await openPerson(browser, server.url);
    // For the whole context: both of his tabs follow the clock the test moves.
    await marco.context.clock.install();
    await marco.page.reload();
    recordPresenceCalls(marco.page, "first");
    await signUp(marco.page, "marco", "Marco Rossi");
    lena = await openPerson(browser, server.url);
    await signUp(lena.page, "lena", "Lena Berg");
    await startConversation(lena.page, ["marco"]);
    await openConversation(lena.page, "Marco Rossi");
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("says nothing of away while one tab sits idle and another is in use", async () => {
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(ONLINE);
    marcosSecondTab = await marco.context.newPage();
    recordPresenceCalls(marcosSecondTab, "second");
    await marcosSecondTab.goto("/");
    await marcosSecondTab.locator(".sidebar").waitFor();
    const from = said.length;

    // The first tab is left alone for eight minutes; the second is used after three and six.
    await marco.context.clock.fastForward("03:00");
    await marcosSecondTab.keyboard.press("Shift");
    await activityShared(marcosSecondTab, marco.page);
    await marco.context.clock.fastForward("03:00");
    await marcosSecondTab.mouse.move(200, 300);
    await activityShared(marcosSecondTab, marco.page);
    await marco.context.clock.fastForward("02:00");
    await settle();
    expect(saidSince(from)).toEqual([]);
    expect(await marcoAsLenaSeesHim()).toEqual(ONLINE);
  });

  it("shows him away once none of his tabs has seen activity for five minutes, said once", async () => {
    const from = said.length;
    // Five minutes and a few seconds after the second tab was last used.
    await marco.context.clock.fastForward("03:10");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(AWAY);
    // The first tab opened first, so it speaks for both.
    expect(saidSince(from)).toEqual(["first: away"]);
    await screenshot(lena.page, "presence-away");
  });

  it("shows him online again at his first activity, in either tab", async () => {
    const from = said.length;
    await marcosSecondTab.mouse.move(250, 320);
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(ONLINE);
    await marcosSecondTab.mouse.move(260, 330);
    await marcosSecondTab.keyboard.press("Shift");
    await settle();
    expect(saidSince(from)).toEqual(["first: active"]);

    // Away again, then back through the other tab: a key this time.
    await marco.context.clock.fastForward("05:10");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(AWAY);
    await marco.page.keyboard.press("Shift");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(ONLINE);
    expect(saidSince(from)).toEqual(["first: active", "first: away", "first: active"]);
  });

  it("lets the other tab speak once the first is closed", async () => {
    const from = said.length;
    await marco.page.close();
    // Taking over, it says the status it finds once more (no change for the server).
    await expect.poll(() => saidSince(from), LIVE).toEqual(["second: active"]);
    await marco.context.clock.fastForward("05:10");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(AWAY);
    await marcosSecondTab.mouse.move(100, 100);
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(ONLINE);
    expect(saidSince(from)).toEqual(["second: active", "second: away", "second: active"]);
  });

  it("says away again after a reconnect to a server that forgot it, and active at his next activity", async () => {
    await marco.context.clock.fastForward("05:10");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(AWAY);
    const from = said.length;
    // A new server knows nothing of anyone: whoever connects is online until they say otherwise.
    await server.restart();
    await marcosSecondTab.locator(".pill[data-connection='connected']").waitFor({ timeout: 30_000 });
    await expect.poll(() => saidSince(from), { timeout: 30_000 }).toContain("second: away");
    await expect.poll(marcoAsLenaSeesHim, { timeout: 30_000 }).toEqual(AWAY);
    await marcosSecondTab.keyboard.press("Shift");
    await expect.poll(marcoAsLenaSeesHim, LIVE).toEqual(ONLINE);
  });
});
