// Unread and mention counts in the browser: the server's counts, shown alike in every tab of one
// person and after a reload, cleared when the person actually sees the messages (an open
// conversation in a focused tab), and not by a tab that does not have focus. Alice uses the app in
// two tabs; Bob writes to her through the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, CDPSession, Locator, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, conversationLink, messageBubble, openConversation, signUp } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

const GROUP = "Release train";

let server: TestServer;
let browser: Browser;
let alice: { context: BrowserContext; page: Page };
let aliceSecondTab: Page;
let bob: ApiUser;
let conversationId: string;

/** The unread badges of the group's entry in the list, in words (empty when there are none). */
function badgeWords(page: Page): Locator {
  return conversationLink(page, GROUP).locator(".conv__badges .sr-only");
}

async function expectBadges(page: Page, words: string | null): Promise<void> {
  if (words === null) await expect.poll(() => conversationLink(page, GROUP).locator(".conv__badges").count()).toBe(0);
  else await expect.poll(() => badgeWords(page).textContent()).toBe(words);
}

/** After two frames the page has delivered its IntersectionObserver reports for what it shows. */
function twoFrames(page: Page): Promise<unknown> {
  return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/**
 * Takes focus away from a tab, as when another window is in front. Playwright lets every page
 * think it has focus; this turns that off for `page` and brings the other tab to the front.
 */
async function unfocus(page: Page, other: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: false });
  await other.bringToFront();
  await expect.poll(() => page.evaluate(() => document.hasFocus())).toBe(false);
  return cdp;
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Unread counts in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    alice = await openPerson(browser, server.url);
    await signUp(alice.page, "alice", "Alice Liddell");
    bob = await apiUser(server.url, "bob", PASSWORD, "Bob Marley");
    const aliceId = (await bob.api.user.search.query({ query: "alice" })).find((u) => u.username === "alice")!.id;
    conversationId = (await bob.api.conversation.create.mutate({ title: GROUP, memberIds: [aliceId] })).id;
    aliceSecondTab = await alice.context.newPage();
    await aliceSecondTab.goto("/#/");
    await aliceSecondTab.getByRole("button", { name: "New conversation" }).first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  const bobSays = (content: string) => bob.api.message.send.mutate({ conversationId, content, clientMessageId: crypto.randomUUID() });

  it("raises the unread and mention badges in every tab, and the tab title", async () => {
    await bobSays("The train leaves on Friday.");
    await bobSays("@alice can you check the changelog?");
    for (const page of [alice.page, aliceSecondTab]) {
      await expectBadges(page, "2 unread, 1 mention");
      expect(await conversationLink(page, GROUP).locator(".badge--mention").textContent()).toBe("@1");
      await expect.poll(() => page.title()).toBe("(2) Parley");
    }
    await screenshot(alice.page, "unread-badges");
  });

  it("keeps the counts across a reload", async () => {
    await aliceSecondTab.reload();
    await expectBadges(aliceSecondTab, "2 unread, 1 mention");
    await expect.poll(() => aliceSecondTab.title()).toBe("(2) Parley");
  });

  it("does not mark read in a tab without focus, and does once focus returns, in both tabs", async () => {
    const cdp = await unfocus(aliceSecondTab, alice.page);
    // Opened by its address, as a click would bring the tab to focus.
    await aliceSecondTab.evaluate((id) => (location.hash = `#/c/${id}`), conversationId);
    await messageBubble(aliceSecondTab, "can you check the changelog").waitFor();
    expect(await aliceSecondTab.evaluate(() => document.hasFocus())).toBe(false);
    await twoFrames(aliceSecondTab);
    // Bob's next message arrives after any read the open tab could have sent: the count goes on up.
    await bobSays("Also the release notes.");
    await messageBubble(aliceSecondTab, "Also the release notes.").waitFor();
    await twoFrames(aliceSecondTab);
    await expectBadges(alice.page, "3 unread, 1 mention");
    await expectBadges(aliceSecondTab, "3 unread, 1 mention");
    expect(await aliceSecondTab.evaluate(() => document.hasFocus())).toBe(false);

    // Focus back on the tab showing the conversation: read, in both tabs (the server's read.updated).
    await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
    await aliceSecondTab.bringToFront();
    await expectBadges(aliceSecondTab, null);
    await expectBadges(alice.page, null);
    await expect.poll(() => alice.page.title()).toBe("Parley");
    await cdp.detach();
  });

  it("shows a New messages line above the first message unread when the conversation was opened", async () => {
    // Opened above while three messages were unread: the line stays after they were read.
    const line = aliceSecondTab.locator(".new-messages-divider");
    expect(await line.count()).toBe(1);
    const firstUnread = aliceSecondTab.locator(".message-row", { has: line });
    expect(await firstUnread.locator(".msg__bubble").textContent()).toBe("The train leaves on Friday.");
    await screenshot(aliceSecondTab, "new-messages-line");

    // Opened with nothing unread: no line.
    await alice.page.reload();
    await openConversation(alice.page, GROUP);
    await messageBubble(alice.page, "Also the release notes.").waitFor();
    expect(await alice.page.locator(".new-messages-divider").count()).toBe(0);
  });

  it("clears the count in both tabs when the conversation is opened in a focused tab, and it stays read after a reload", async () => {
    await alice.page.goto("/#/");
    await aliceSecondTab.goto("/#/");
    await bobSays("One more thing, @alice.");
    await expectBadges(alice.page, "1 unread, 1 mention");
    await expectBadges(aliceSecondTab, "1 unread, 1 mention");
    await openConversation(alice.page, GROUP);
    await expectBadges(alice.page, null);
    await expectBadges(aliceSecondTab, null);
    await aliceSecondTab.reload();
    await conversationLink(aliceSecondTab, GROUP).waitFor();
    await expectBadges(aliceSecondTab, null);
    await expect.poll(() => aliceSecondTab.title()).toBe("Parley");
  });

  it("reads at once what arrives in the conversation open in a focused tab", async () => {
    await bobSays("And the tag, please.");
    // The preview changes with the same event that counts the message, so from here the count
    // was raised; it falls back to none only because the open tab read it.
    await expect.poll(() => conversationLink(aliceSecondTab, GROUP).locator(".conv__preview").textContent()).toContain("And the tag");
    await messageBubble(alice.page, "And the tag, please.").waitFor();
    await expectBadges(aliceSecondTab, null);
  });
});
