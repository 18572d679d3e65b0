// Threads in two browsers: Up in the empty thread composer edits one's own last reply there, and
// the open thread is part of the address - a reload keeps it open, Back closes it, a link opens it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { composer, conversationLink, messageBubble, openConversation, send, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let ada: { context: BrowserContext; page: Page };
let ben: { context: BrowserContext; page: Page };
let conversationId: string;
let rootId: string;

/** Live changes cross two browsers and a server on a loaded machine: wait for them this long. */
const LIVE = { timeout: 10_000 };

/** The row of the message whose text matches, on the page or within a part of it (the thread). */
function messageRow(scope: Page | Locator, text: string | RegExp): Locator {
  const page = "goto" in scope ? scope : scope.page();
  return scope.locator(".msg", { has: page.locator(".msg__bubble", { hasText: text }) });
}

const thread = (page: Page) => page.getByRole("complementary", { name: "Thread" });
const threadComposer = (page: Page) => page.getByRole("textbox", { name: "Reply in thread" });
const isFocused = (locator: Locator) => locator.evaluate((el) => el === document.activeElement);
const hash = (page: Page) => page.evaluate(() => window.location.hash);

async function reply(page: Page, text: string): Promise<void> {
  await threadComposer(page).fill(text);
  await threadComposer(page).press("Enter");
  await messageRow(thread(page), text).and(page.locator("[data-status='sent']")).waitFor(LIVE);
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Threads in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    ada = await openPerson(browser, server.url);
    await signUp(ada.page, "ada", "Ada Lovelace");
    ben = await openPerson(browser, server.url);
    await signUp(ben.page, "ben", "Ben Okafor");
    await startConversation(ada.page, ["ben"]);
    conversationId = (await ada.page.locator(".conversation[data-conversation-id]").getAttribute("data-conversation-id")) as string;
    await conversationLink(ben.page, "Ada Lovelace").waitFor(LIVE);
    await openConversation(ben.page, "Ada Lovelace");
    await send(ada.page, "Where shall we meet on Friday?");
    await messageBubble(ben.page, "Where shall we meet on Friday?").waitFor(LIVE);
    rootId = (await messageRow(ada.page, "Where shall we meet on Friday?").getAttribute("data-message-id")) as string;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("puts the open thread in the address, and Back closes it", async () => {
    await send(ada.page, "A message after it, in the main list");
    await messageRow(ada.page, "Where shall we meet on Friday?").getByRole("button", { name: "Reply in thread" }).click();
    await thread(ada.page).waitFor();
    expect(await hash(ada.page)).toBe(`#/c/${conversationId}/t/${rootId}`);
    await ada.page.goBack();
    await thread(ada.page).waitFor({ state: "hidden" });
    expect(await hash(ada.page)).toBe(`#/c/${conversationId}`);
    // The conversation stays, and so does focus, on the root it came back to.
    await ada.page.locator(".conversation__heading h2", { hasText: "Ben Okafor" }).waitFor();
    await expect.poll(() => ada.page.evaluate(() => document.activeElement?.closest("[data-message-id]")?.getAttribute("data-message-id"))).toBe(rootId);
    await ada.page.goForward();
    await thread(ada.page).waitFor();
  });

  it("edits one's own last reply in the thread with Up in its empty composer", async () => {
    await reply(ada.page, "The café by the station");
    await reply(ada.page, "Or the park, if it is sunny");
    // Ben opens the thread from his list and replies last: Up is about one's own replies.
    await messageRow(ben.page, "Where shall we meet on Friday?").locator(".msg__replies").click();
    await reply(ben.page, "The park sounds good");
    await messageBubble(thread(ada.page), "The park sounds good").waitFor(LIVE);

    // Not while the composer holds text.
    await threadComposer(ada.page).fill("Hm");
    await threadComposer(ada.page).press("ArrowUp");
    expect(await ada.page.getByRole("textbox", { name: "Edit message" }).count()).toBe(0);
    await threadComposer(ada.page).fill("");

    await threadComposer(ada.page).press("ArrowUp");
    const editor = thread(ada.page).getByRole("textbox", { name: "Edit message" });
    await editor.waitFor();
    expect(await isFocused(editor)).toBe(true);
    expect(await editor.inputValue()).toBe("Or the park, if it is sunny");
    // The main list's own last message is not touched.
    expect(await ada.page.locator(".messages").getByRole("textbox", { name: "Edit message" }).count()).toBe(0);
    await screenshot(ada.page, "thread-edit-last-reply");
    await editor.fill("Or the park, if it is sunny (bring a blanket)");
    await editor.press("Enter");
    await editor.waitFor({ state: "hidden" });
    // Focus goes back to the thread's composer, where the edit started.
    await expect.poll(() => isFocused(threadComposer(ada.page))).toBe(true);

    for (const page of [ada.page, ben.page]) {
      await messageRow(thread(page), "Or the park, if it is sunny (bring a blanket)").locator(".msg__edited").waitFor(LIVE);
    }
    expect(await messageRow(thread(ada.page), "The café by the station").locator(".msg__edited").count()).toBe(0);

    // The main composer still edits the main list's last message.
    await composer(ada.page).press("ArrowUp");
    const mainEditor = ada.page.locator(".messages").getByRole("textbox", { name: "Edit message" });
    await mainEditor.waitFor();
    expect(await mainEditor.inputValue()).toBe("A message after it, in the main list");
    await mainEditor.press("Escape");
    await mainEditor.waitFor({ state: "hidden" });
  });

  it("keeps the thread open across a reload, loading its first message and replies", async () => {
    await ada.page.reload();
    const panel = thread(ada.page);
    await messageBubble(panel, "Where shall we meet on Friday?").waitFor();
    await messageBubble(panel, "The park sounds good").waitFor();
    expect(await panel.locator(".thread__count").textContent()).toBe("3 replies");
    expect(await hash(ada.page)).toBe(`#/c/${conversationId}/t/${rootId}`);
    // Still a thread to write in, and Up still edits one's own last reply.
    await expect.poll(() => isFocused(threadComposer(ada.page))).toBe(true);
    await threadComposer(ada.page).press("ArrowUp");
    expect(await panel.getByRole("textbox", { name: "Edit message" }).inputValue()).toBe("Or the park, if it is sunny (bring a blanket)");
    await ada.page.keyboard.press("Escape");

    // Closed with its button: the entry it was opened from comes back, so Back does not reopen it.
    await panel.getByRole("button", { name: "Close thread" }).click();
    await panel.waitFor({ state: "hidden" });
    expect(await hash(ada.page)).toBe(`#/c/${conversationId}`);
    await ada.page.goBack();
    await expect.poll(() => hash(ada.page)).not.toBe(`#/c/${conversationId}`);
    expect(await hash(ada.page)).not.toContain("/t/");
    expect(await thread(ada.page).count()).toBe(0);
  });

  it("opens a thread from a link, and says so when the link names no thread", async () => {
    const link = `${server.url}/#/c/${conversationId}/t/${rootId}`;
    const tab = await ben.context.newPage();
    try {
      await tab.goto(link);
      const panel = thread(tab);
      await messageBubble(panel, "Where shall we meet on Friday?").waitFor();
      await messageBubble(panel, "Or the park, if it is sunny (bring a blanket)").waitFor();
      await tab.locator(".conversation__heading h2", { hasText: "Ada Lovelace" }).waitFor();
      // Escape closes it: this entry was not made here, so it becomes the conversation.
      await threadComposer(tab).press("Escape");
      await panel.waitFor({ state: "hidden" });
      expect(await hash(tab)).toBe(`#/c/${conversationId}`);

      // A reply's id, or one that names no message: nothing to show but the news.
      const replyId = await messageRow(thread(ben.page), "The park sounds good").getAttribute("data-message-id");
      for (const id of [replyId, "999999999"]) {
        await tab.goto(`${server.url}/#/c/${conversationId}/t/${id}`);
        await thread(tab).getByRole("alert").getByText("Thread not found").waitFor();
      }
      await screenshot(tab, "thread-not-found");
    } finally {
      await tab.close();
    }
  });
});
