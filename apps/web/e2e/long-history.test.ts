// A long conversation stays light: the message list is virtualized, so 500 messages are a few
// dozen rows in the DOM (they were about 4,300 nodes), while scrolling up still loads and shows
// every older message, the reader keeps their place, and new messages are followed at the bottom.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { defaultApiConfig } from "@parley/api";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, loadWholeHistory, loadedMessageCount, logIn, messageBubble, openConversation, readHistory, storedMessages } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

const TOTAL = 500;
/** Rows in the DOM at once, at most: a screenful and the overscan above and below, with room to spare. */
const MAX_ROWS_IN_DOM = 60;

let server: TestServer;
let browser: Browser;
let uma: ApiUser;
let vic: ApiUser;
let conversationId: string;
/** The seeded messages' ids, oldest first. */
const sent: string[] = [];
let reader: { context: BrowserContext; page: Page };

/** Short and long messages from both people, in runs, so rows differ in height and grouping. */
function content(i: number): string {
  if (i % 17 === 0) return `Long message ${i}:\n${"A paragraph that wraps over several lines of the bubble. ".repeat(6)}\nand a last line.`;
  return `Message ${i}`;
}

/** Where a row is, relative to the scroller's visible area: its top, in pixels. */
function topInView(page: Page, id: string): Promise<number | null> {
  return page.evaluate((messageId) => {
    const row = document.querySelector(`[data-message-id="${messageId}"]`);
    const scroller = document.querySelector(".messages");
    if (!row || !scroller) return null;
    return row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
  }, id);
}

/** Whether the row is inside the scroller's visible area. */
async function inView(page: Page, id: string): Promise<boolean> {
  const height = await page.locator(".messages").evaluate((el) => el.clientHeight);
  const top = await topInView(page, id);
  return top !== null && top >= -1 && top < height;
}

const nextFrame = (page: Page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`a conversation of ${TOTAL} messages${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    // Seeding sends 500 messages in seconds: above the default per-user rate, which is not under test here.
    server = await startTestServer({ api: { limits: { ...defaultApiConfig.limits, messagesPerUser: { max: 100_000, windowSeconds: 10 } } } });
    browser = await launchBrowser();
    uma = await apiUser(server.url, "uma", PASSWORD, "Uma Thurman");
    vic = await apiUser(server.url, "vic", PASSWORD, "Vic Chesnutt");
    conversationId = (await vic.api.conversation.create.mutate({ memberIds: [uma.id] })).id;
    for (let i = 1; i <= TOTAL; i += 1) {
      const from = Math.floor(i / 4) % 2 === 0 ? vic : uma;
      const message = await from.api.message.send.mutate({ conversationId, content: content(i), clientMessageId: crypto.randomUUID() });
      sent.push(message.id);
    }
    reader = await openPerson(browser, server.url);
    await logIn(reader.page, "uma");
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("opens at the newest message with only the rows near the view in the DOM", async () => {
    const { page } = reader;
    await openConversation(page, "Vic Chesnutt");
    await messageBubble(page, new RegExp(`^Message ${TOTAL}$`)).waitFor();
    await expect.poll(() => inView(page, sent.at(-1)!)).toBe(true);
    expect(await loadedMessageCount(page)).toBe(50);
    expect(await page.locator(".message-row").count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
    await screenshot(page, "long-history");
  });

  it("keeps the reader's place when older messages load above, and loads them all", async () => {
    const { page } = reader;
    const scroller = page.locator(".messages");
    // Scroll to the top of the first page: the next one loads above the message on top.
    const oldestLoaded = sent[TOTAL - 50]!;
    await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect.poll(() => loadedMessageCount(page), { timeout: 15_000 }).toBe(100);
    await nextFrame(page);
    const top = await topInView(page, oldestLoaded);
    expect(top).not.toBeNull();
    // Still on screen, not pushed down by the 50 rows added above it.
    expect(await inView(page, oldestLoaded)).toBe(true);
    expect(await storedMessages(page).first().getAttribute("data-message-id")).not.toBe(sent[0]);

    await loadWholeHistory(page, TOTAL);
    await expect.poll(() => inView(page, sent[0]!)).toBe(true);
    await messageBubble(page, /^Message 1$/).waitFor();
    expect(await page.locator(".message-row").count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
  });

  it(`renders far fewer than ${TOTAL} rows with all of them loaded, and shows every one once, in order, on the way down`, async () => {
    const { page } = reader;
    expect(await loadedMessageCount(page)).toBe(TOTAL);
    const rows = await page.locator(".message-row").count();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
    expect(await storedMessages(page).count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
    // The whole list was about 4,300 elements for 500 messages; now a small fraction of that.
    expect(await page.locator(".messages *").count()).toBeLessThan(1_000);
    // Each row says where it stands in the loaded history.
    const first = page.locator(".message-row").first();
    expect(await first.getAttribute("aria-setsize")).toBe(String(TOTAL));
    expect(await first.getAttribute("aria-posinset")).toBe("1");

    expect(await readHistory(page)).toEqual(sent);
    expect(await page.locator(".message-row").count()).toBeLessThanOrEqual(MAX_ROWS_IN_DOM);
  });

  it("follows a new message at the bottom, and counts one that arrives while reading older ones", async () => {
    const { page } = reader;
    const scroller = page.locator(".messages");
    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect.poll(() => inView(page, sent.at(-1)!)).toBe(true);
    const atTheEnd = await vic.api.message.send.mutate({ conversationId, content: "Are you there?", clientMessageId: crypto.randomUUID() });
    await expect.poll(() => inView(page, atTheEnd.id)).toBe(true);

    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
    await nextFrame(page);
    const before = await scroller.evaluate((el) => el.scrollTop);
    const whileAway = await vic.api.message.send.mutate({ conversationId, content: "Hello?", clientMessageId: crypto.randomUUID() });
    const jump = page.getByRole("button", { name: "1 new message" });
    await jump.waitFor();
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(before);
    await jump.click();
    // A smooth scroll down the whole history.
    await expect.poll(() => inView(page, whileAway.id), { timeout: 10_000 }).toBe(true);
    await jump.waitFor({ state: "hidden" });
  });
});
