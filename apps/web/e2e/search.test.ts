// Finding a message: Ctrl/Cmd+K (or the sidebar's search button) searches messages as well as
// conversation names; a result opens its conversation at the message, with the history around it
// loaded both ways, and live messages join once the reader has scrolled down to the newest.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { defaultApiConfig } from "@parley/api";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, composer, logIn, messageBubble, storedMessages } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

/** Messages in the long conversation: more than one page (50), so the one found is not on the first. */
const TOTAL = 120;
/** Where the distinctive message is among them (1-based). */
const TARGET = 40;

let server: TestServer;
let browser: Browser;
let ann: ApiUser;
let ben: ApiUser;
let planningId: string;
let lunchId: string;
/** The long conversation's messages' ids, oldest first. */
const planning: string[] = [];
let reader: { context: BrowserContext; page: Page };

const at = (n: number) => planning[n - 1] as string;

function switcher(page: Page) {
  return page.getByRole("dialog", { name: "Search conversations and messages" });
}

function searchBox(page: Page) {
  return switcher(page).getByRole("combobox", { name: "Conversation name, or words to find in messages" });
}

let replyId: string;

/** Where a row is, relative to the scroller's visible area: whether it is inside it. */
function inView(page: Page, id: string): Promise<boolean> {
  return page.evaluate((messageId) => {
    const row = document.querySelector(`.message-list [data-message-id="${messageId}"]`);
    const scroller = document.querySelector(".messages");
    if (!row || !scroller) return false;
    const r = row.getBoundingClientRect();
    const s = scroller.getBoundingClientRect();
    return r.bottom > s.top && r.top < s.bottom;
  }, id);
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`finding a message${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    // Seeding sends over a hundred messages in seconds: above the default per-user rate, not under test here.
    server = await startTestServer({ api: { limits: { ...defaultApiConfig.limits, messagesPerUser: { max: 100_000, windowSeconds: 10 } } } });
    browser = await launchBrowser();
    ann = await apiUser(server.url, "ann", PASSWORD, "Ann Archer");
    ben = await apiUser(server.url, "ben", PASSWORD, "Ben Baker");
    planningId = (await ann.api.conversation.create.mutate({ memberIds: [ben.id], title: "Release planning" })).id;
    for (let i = 1; i <= TOTAL; i += 1) {
      const from = i % 3 === 0 ? ben : ann;
      const content = i === TARGET ? "Ship the zebracorn build on Friday" : `Planning note ${i}`;
      planning.push((await from.api.message.send.mutate({ conversationId: planningId, content, clientMessageId: crypto.randomUUID() })).id);
    }
    // A reply in the thread of an early message: found too, and opened in its thread.
    replyId = (await ann.api.message.send.mutate({ conversationId: planningId, content: "The quokka mascot is approved", clientMessageId: crypto.randomUUID(), threadId: at(10) })).id;
    // Newer, in another conversation: results are grouped by conversation, newest first.
    lunchId = (await ben.api.conversation.create.mutate({ memberIds: [ann.id] })).id;
    await ben.api.message.send.mutate({ conversationId: lunchId, content: "Zebracorn sandwiches again?", clientMessageId: crypto.randomUUID() });
    reader = await openPerson(browser, server.url);
    await logIn(reader.page, "ben");
    await reader.page.locator(".conv").first().waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("finds a message with Ctrl+K, under its conversation, and opens it with its neighbours; scrolling down reaches the newest and live messages", async () => {
    const { page } = reader;
    await page.keyboard.press("Control+k");
    await switcher(page).waitFor();
    await expect.poll(() => searchBox(page).evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type("zebracorn");

    // Two results, each under its conversation's name, the word marked.
    await switcher(page).getByRole("status").getByText("2 messages found.").waitFor();
    const planningGroup = switcher(page).getByRole("group", { name: "Release planning" });
    const lunchGroup = switcher(page).getByRole("group", { name: "Ann Archer" });
    const found = planningGroup.getByRole("option");
    await expect.poll(() => found.count()).toBe(1);
    expect(await found.getAttribute("data-message-id")).toBe(at(TARGET));
    expect(await found.locator("mark").allTextContents()).toEqual(["zebracorn"]);
    expect(await found.locator(".found__snippet").textContent()).toBe("Ship the zebracorn build on Friday");
    expect(await found.locator(".found__sender").textContent()).toBe("Ann Archer");
    expect(await lunchGroup.getByRole("option").locator("mark").allTextContents()).toEqual(["Zebracorn"]);
    await screenshot(page, "search-results");

    // The newest (the lunch one) is first; Down moves to the planning one, Enter opens it.
    const active = () => searchBox(page).getAttribute("aria-activedescendant");
    expect(await page.locator(`[id="${await active()}"]`).locator("mark").textContent()).toBe("Zebracorn");
    await page.keyboard.press("ArrowDown");
    expect(await page.locator(`[id="${await active()}"]`).getAttribute("data-message-id")).toBe(at(TARGET));
    await page.keyboard.press("Enter");
    await switcher(page).waitFor({ state: "hidden" });
    await page.locator(".conversation__heading h2", { hasText: "Release planning" }).waitFor();

    // The message is in view and marked, with older and newer neighbours loaded; the newest is not.
    const target = page.locator(`.message-list [data-message-id="${at(TARGET)}"]`);
    await target.waitFor();
    await expect.poll(() => inView(page, at(TARGET))).toBe(true);
    await expect.poll(() => page.locator(".message-row--found").locator(`[data-message-id="${at(TARGET)}"]`).count()).toBe(1);
    for (const neighbour of [TARGET - 2, TARGET - 1, TARGET + 1, TARGET + 2]) await page.locator(`.message-list [data-message-id="${at(neighbour)}"]`).waitFor();
    expect(await page.locator(`[data-message-id="${at(TOTAL)}"]`).count()).toBe(0);
    const jumpToNewest = page.getByRole("button", { name: "Jump to newest" });
    await jumpToNewest.waitFor();
    await screenshot(page, "search-jumped");

    // A live message while the window does not reach the newest: not shown after a gap.
    const whileAway = await ann.api.message.send.mutate({ conversationId: planningId, content: "Sent while Ben reads old notes", clientMessageId: crypto.randomUUID() });
    await page.waitForTimeout(500);
    expect(await page.locator(`[data-message-id="${whileAway.id}"]`).count()).toBe(0);

    // Scrolling up still loads older ones.
    const scroller = page.locator(".messages");
    await expect
      .poll(
        async () => {
          await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
          return page.locator(".beginning").count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);

    // Scrolling down loads newer pages until the newest, then the live one shows after it.
    await expect
      .poll(
        async () => {
          await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
          return page.locator(`[data-message-id="${whileAway.id}"]`).count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    await jumpToNewest.waitFor({ state: "detached" });
    const newest = await ann.api.message.send.mutate({ conversationId: planningId, content: "A fresh one after the search", clientMessageId: crypto.randomUUID() });
    await messageBubble(page, "A fresh one after the search").waitFor();
    const ids = await storedMessages(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-message-id")));
    expect(ids.slice(-3)).toEqual([at(TOTAL), whileAway.id, newest.id]);
    await expect.poll(() => inView(page, newest.id)).toBe(true);
  });

  it("narrows results with from:, from the sidebar's search button, and a click opens the result", async () => {
    const { page } = reader;
    await page.getByRole("button", { name: /Search messages and conversations/ }).click();
    await switcher(page).waitFor();
    await searchBox(page).fill("from:ben zebracorn");
    await switcher(page).getByRole("status").getByText("1 message found.").waitFor();
    expect(await switcher(page).locator(".switcher__option--found .found__snippet").allTextContents()).toEqual(["Zebracorn sandwiches again?"]);
    await searchBox(page).fill("from:ann zebracorn");
    await expect.poll(() => switcher(page).locator(".switcher__option--found .found__snippet").allTextContents()).toEqual(["Ship the zebracorn build on Friday"]);
    await switcher(page).getByRole("status").getByText("1 message found.").waitFor();

    // Many results: a page at a time, "More results" asks for the next.
    await searchBox(page).fill("planning note");
    await switcher(page).getByRole("status").getByText("20+ messages found.").waitFor();
    await switcher(page).getByRole("option", { name: "More results" }).click();
    await switcher(page).getByRole("status").getByText("40+ messages found.").waitFor();
    await expect.poll(() => searchBox(page).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await switcher(page).getByRole("group", { name: "Release planning" }).getByRole("option").count()).toBe(40);

    // A phrase that is not there: said plainly.
    await searchBox(page).fill('"zebracorn sandwiches friday"');
    await switcher(page).getByText("No conversation or message matches “\"zebracorn sandwiches friday\"”.").waitFor();

    await searchBox(page).fill("from:ann zebracorn");
    await switcher(page).locator(".switcher__option--found").click();
    await switcher(page).waitFor({ state: "hidden" });
    await page.locator(`.message-row--found [data-message-id="${at(TARGET)}"]`).waitFor();
    await expect.poll(() => inView(page, at(TARGET))).toBe(true);
  });

  it("opens a reply found by search in its thread, beside its root in the conversation", async () => {
    const { page } = reader;
    await page.keyboard.press("Control+k");
    await searchBox(page).fill("quokka");
    const found = switcher(page).getByRole("group", { name: "Release planning" }).getByRole("option");
    await expect.poll(() => found.locator(".found__thread").textContent()).toBe("in a thread");
    await page.keyboard.press("Enter");
    await switcher(page).waitFor({ state: "hidden" });
    const thread = page.locator(`.thread[data-thread-id="${at(10)}"]`);
    await thread.locator(`.thread__reply--found [data-message-id="${replyId}"]`).waitFor();
    await page.locator(`.message-list [data-message-id="${at(10)}"]`).waitFor();
    await expect.poll(() => inView(page, at(10))).toBe(true);
  });

  it("sending from a window that does not reach the newest goes to the newest, where the message is", async () => {
    const { page } = reader;
    await page.keyboard.press("Control+k");
    await searchBox(page).fill("from:ann zebracorn");
    await switcher(page).getByRole("status").getByText("1 message found.").waitFor();
    await page.keyboard.press("Enter");
    await page.locator(`.message-row--found [data-message-id="${at(TARGET)}"]`).waitFor();
    await page.getByRole("button", { name: "Jump to newest" }).waitFor();
    await composer(page).fill("Replying from the old notes");
    await composer(page).press("Enter");
    const sent = messageBubble(page, "Replying from the old notes");
    await sent.waitFor();
    await page.getByRole("button", { name: "Jump to newest" }).waitFor({ state: "detached" });
    await page.locator(`.message-list [data-message-id="${at(TOTAL)}"]`).waitFor();
    expect(await page.locator(`.message-list [data-message-id="${at(TARGET)}"]`).count()).toBe(0);
  });
});
