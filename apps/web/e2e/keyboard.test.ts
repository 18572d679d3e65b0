// The app by keyboard, as a team that lives in it would use it: focus lands where the next
// keystroke belongs, Ctrl+K jumps between conversations, the arrow keys move through the list, skip
// links and headings get past the sidebar. And on a phone, Enter in the composer is a new line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, composer, conversationLink, logIn, messageBubble, openConversation, signUp } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let kim: { context: BrowserContext; page: Page };
let kimId: string;
const others: ApiUser[] = [];

/** What has focus: its role-ish description, for readable failures. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    const label = el.getAttribute("aria-label") ?? el.getAttribute("placeholder") ?? el.textContent?.trim().slice(0, 40) ?? "";
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} ${label}`.trim();
  });
}

/**
 * Holds every dialog "close" event back for `ms` before it reaches the app, as a busy browser may.
 * Returns a reader of how many have been let through. Only closes of dialogs opened from now on
 * count: one closed before (the previous test's) may still have its close event queued.
 */
async function delayCloseEvents(page: Page, ms: number): Promise<() => Promise<number>> {
  await page.evaluate((delay) => {
    const w = window as unknown as { __lateCloses: number; __stopDelayingCloses(): void };
    w.__lateCloses = 0;
    const late = new WeakSet<Event>();
    const opened = new WeakSet<HTMLDialogElement>();
    const watchOpening = new MutationObserver((records) => {
      for (const { target } of records) if (target instanceof HTMLDialogElement && target.open) opened.add(target);
    });
    watchOpening.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["open"] });
    const hold = (event: Event) => {
      if (late.has(event) || !(event.target instanceof HTMLDialogElement) || !opened.has(event.target)) return;
      event.stopImmediatePropagation();
      const target = event.target;
      setTimeout(() => {
        const again = new Event("close");
        late.add(again);
        target.dispatchEvent(again);
        w.__lateCloses += 1;
      }, delay);
    };
    window.addEventListener("close", hold, true);
    w.__stopDelayingCloses = () => {
      window.removeEventListener("close", hold, true);
      watchOpening.disconnect();
    };
  }, ms);
  return () => page.evaluate(() => (window as unknown as { __lateCloses: number }).__lateCloses);
}

const composerHasFocus = (page: Page) => page.evaluate(() => document.activeElement?.matches(".composer textarea") ?? false);
const focusedConversationId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute("data-conversation-id") ?? null);

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`the app by keyboard${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    for (const [username, fullName] of [
      ["lena", "Lena Park"],
      ["marco", "Marco Rossi"],
      ["nadia", "Nadia Haddad"],
    ] as const) {
      others.push(await apiUser(server.url, username, PASSWORD, fullName));
    }
    kim = await openPerson(browser, server.url);
    await signUp(kim.page, "kim", "Kim Yoon");
    kimId = (await others[0]!.api.user.search.query({ query: "kim" }))[0]!.id;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("opens the new-conversation dialog with focus in the search box", async () => {
    const { page } = kim;
    await page.locator(".sidebar__header").getByRole("button", { name: "New conversation" }).click();
    const dialog = page.getByRole("dialog", { name: "New conversation" });
    await dialog.waitFor();
    await expect.poll(() => focused(page)).toContain("Search by name or username");
    // Typing goes straight into the search.
    await page.keyboard.type("len");
    await dialog.locator('[data-username="lena"]').waitFor();
    // Escape in a search box first empties it (the browser's way), then closes the dialog.
    await page.keyboard.press("Escape");
    expect(await dialog.getByPlaceholder("Search by name or username").inputValue()).toBe("");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });

  it("puts focus in the new conversation's composer, so what is typed next is the first message", async () => {
    const { page } = kim;
    const plus = page.locator(".sidebar__header").getByRole("button", { name: "New conversation" });
    await plus.click();
    const dialog = page.getByRole("dialog", { name: "New conversation" });
    await dialog.waitFor();
    // Keys typed before the dialog has put focus in its search box would go elsewhere.
    await expect.poll(() => focused(page)).toContain("Search by name or username");
    await page.keyboard.type("lena");
    const lena = dialog.locator('[data-username="lena"]');
    await lena.waitFor();
    // Tab to her checkbox, tick it with Space, and submit with Enter.
    await page.keyboard.press("Tab");
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type)).toBe("checkbox");
    await page.keyboard.press("Space");
    await expect.poll(() => lena.locator("input").isChecked()).toBe(true);
    await dialog.getByRole("button", { name: /^Open chat with Lena Park/ }).focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "hidden" });
    await page.locator(".conversation__heading h2", { hasText: "Lena Park" }).waitFor();

    await expect.poll(() => composerHasFocus(page), { message: "the composer has focus" }).toBe(true);
    // A space no longer lands on "+" (which reopened the dialog): it is part of the message.
    await page.keyboard.type("Hi Lena, quick question");
    await page.keyboard.press("Enter");
    await messageBubble(page, "Hi Lena, quick question").waitFor();
    expect(await page.getByRole("dialog", { name: "New conversation" }).isVisible()).toBe(false);
  });

  it("jumps to a conversation by name with Ctrl+K, by keyboard alone", async () => {
    const { page } = kim;
    const [lena, marco, nadia] = others as [ApiUser, ApiUser, ApiUser];
    // A conversation someone else starts comes into the list with its first message.
    for (const [from, conversation] of [
      [marco, await marco.api.conversation.create.mutate({ memberIds: [kimId] })],
      [nadia, await nadia.api.conversation.create.mutate({ memberIds: [kimId, lena.id], title: "Roadmap" })],
    ] as const) {
      await from.api.message.send.mutate({ conversationId: conversation.id, content: "Hello Kim", clientMessageId: crypto.randomUUID() });
    }
    // The conversation with Lena is the most recent: the switcher still ranks it by the name.
    const withLena = (await lena.api.conversation.list.query()).find((c) => c.isDirect)!;
    await lena.api.message.send.mutate({ conversationId: withLena.id, content: "Sure, ask away", clientMessageId: crypto.randomUUID() });
    await conversationLink(page, "Roadmap").waitFor();
    await conversationLink(page, "Marco Rossi").waitFor();
    await expect.poll(() => page.locator(".conv__title").first().textContent()).toBe("Lena Park");

    await page.keyboard.press("Control+k");
    const switcher = page.getByRole("dialog", { name: "Search conversations and messages" });
    await switcher.waitFor();
    const box = switcher.getByRole("combobox", { name: "Conversation name, or words to find in messages" });
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await box.getAttribute("aria-controls")).toBe(await switcher.getByRole("listbox").getAttribute("id"));

    // "r": Roadmap (the title starts with it), Marco Rossi (a word does), Lena Park (it is in it).
    await page.keyboard.type("r");
    const options = switcher.getByRole("option");
    await expect.poll(() => switcher.locator(".switcher__title").allTextContents()).toEqual(["Roadmap", "Marco Rossi", "Lena Park"]);
    const active = async () => {
      const id = await box.getAttribute("aria-activedescendant");
      return id ? page.locator(`[id="${id}"] .switcher__title`).textContent() : null;
    };
    expect(await active()).toBe("Roadmap");
    expect(await options.first().getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("ArrowDown");
    expect(await active()).toBe("Marco Rossi");
    expect(await options.nth(1).getAttribute("aria-selected")).toBe("true");
    expect(await options.first().getAttribute("aria-selected")).toBe("false");
    // Up from the first wraps to the last, Down from the last to the first.
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowUp");
    expect(await active()).toBe("Lena Park");
    await page.keyboard.press("ArrowDown");
    expect(await active()).toBe("Roadmap");
    await page.keyboard.press("ArrowDown");
    await screenshot(page, "quick-switcher");
    await page.keyboard.press("Enter");
    await switcher.waitFor({ state: "hidden" });
    await page.locator(".conversation__heading h2", { hasText: "Marco Rossi" }).waitFor();
    await expect.poll(() => composerHasFocus(page)).toBe(true);

    // Escape closes it and gives focus back where it was.
    await page.keyboard.press("Control+k");
    await switcher.waitFor();
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type("nobody by this name");
    await switcher.getByText("No conversation or message matches “nobody by this name”.").waitFor();
    await page.keyboard.press("Escape");
    await switcher.waitFor({ state: "hidden" });
    expect(await composerHasFocus(page)).toBe(true);
  });

  it("reopens a dialog at once after closing it, even when the browser's close event comes late", async () => {
    const { page } = kim;
    // The browser fires "close" as a task queued after the dialog has closed; on a busy machine a
    // person's next key can come first. Hold every close event back to make that certain.
    const lateCloses = await delayCloseEvents(page, 300);
    const plus = page.locator(".sidebar__header").getByRole("button", { name: "New conversation" });
    const dialog = page.getByRole("dialog", { name: "New conversation" });
    await plus.focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await expect.poll(() => focused(page)).toContain("Search by name or username");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await expect.poll(() => focused(page)).toContain("New conversation");
    // Enter on "+" before the close event has arrived opens it again, and the late event does not
    // close it.
    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await expect.poll(lateCloses).toBe(1);
    expect(await dialog.isVisible()).toBe(true);
    await expect.poll(() => focused(page)).toContain("Search by name or username");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await expect.poll(lateCloses).toBe(2);

    // The same for the quick switcher, closed by choosing a conversation and opened again at once.
    const switcher = page.getByRole("dialog", { name: "Search conversations and messages" });
    const box = switcher.getByRole("combobox", { name: "Conversation name, or words to find in messages" });
    await page.keyboard.press("Control+k");
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type("roadmap");
    await page.keyboard.press("Enter");
    await switcher.waitFor({ state: "hidden" });
    await page.keyboard.press("Control+k");
    await switcher.waitFor();
    await expect.poll(lateCloses).toBe(3);
    expect(await switcher.isVisible()).toBe(true);
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type("nobody by this name");
    await switcher.getByText("No conversation or message matches “nobody by this name”.").waitFor();
    await page.keyboard.press("Escape");
    await switcher.waitFor({ state: "hidden" });
    await page.evaluate(() => (window as unknown as { __stopDelayingCloses(): void }).__stopDelayingCloses());
  });

  it("moves through the conversation list with the arrow keys, Home and End, one Tab stop for the list", async () => {
    const { page } = kim;
    const links = page.locator(".conv");
    await expect.poll(() => links.count()).toBe(3);
    const order = await links.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-conversation-id")));
    // One Tab stop: the open conversation.
    expect(await page.locator('.conv[tabindex="0"]').count()).toBe(1);
    const open = await page.locator(".conversation").getAttribute("data-conversation-id");
    expect(await page.locator('.conv[tabindex="0"]').getAttribute("data-conversation-id")).toBe(open);

    await links.first().focus();
    await page.keyboard.press("ArrowDown");
    expect(await focusedConversationId(page)).toBe(order[1]);
    await page.keyboard.press("End");
    expect(await focusedConversationId(page)).toBe(order[2]);
    await page.keyboard.press("ArrowDown");
    expect(await focusedConversationId(page)).toBe(order[2]);
    await page.keyboard.press("Home");
    expect(await focusedConversationId(page)).toBe(order[0]);
    await page.keyboard.press("ArrowUp");
    expect(await focusedConversationId(page)).toBe(order[0]);
    await page.keyboard.press("ArrowDown");
    expect(await page.locator('.conv[tabindex="0"]').getAttribute("data-conversation-id")).toBe(order[1]);
    // Tab leaves the list instead of walking through every conversation.
    await page.keyboard.press("Tab");
    expect(await focusedConversationId(page)).toBeNull();
    await page.keyboard.press("Shift+Tab");
    expect(await focusedConversationId(page)).toBe(order[1]);
    // Enter opens the focused one.
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".conversation").getAttribute("data-conversation-id")).toBe(order[1]);
  });

  it("offers skip links first, past the sidebar, and headings to find one's way", async () => {
    const { page } = kim;
    // Fresh from a load, the first Tab reaches the skip link.
    await page.goto("/#/");
    await page.reload();
    await conversationLink(page, "Roadmap").waitFor();
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("a Skip to conversations");
    expect(await page.getByRole("link", { name: "Skip to conversations" }).isVisible()).toBe(true);
    await page.keyboard.press("Enter");
    expect(await focusedConversationId(page)).not.toBeNull();

    await openConversation(page, "Roadmap");
    const skipLinks = page.locator(".skip-link");
    expect(await skipLinks.allTextContents()).toEqual(["Skip to composer", "Skip to messages"]);
    // Out of sight until focused, and first in the page's Tab order.
    expect(await skipLinks.first().evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
    const firstFocusable = await page.evaluate(() => document.querySelector("a[href], button, input, textarea, [tabindex='0']")?.textContent);
    expect(firstFocusable).toBe("Skip to composer");
    await skipLinks.first().focus();
    expect(await skipLinks.first().evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(20);
    await page.keyboard.press("Enter");
    expect(await composerHasFocus(page)).toBe(true);
    await page.getByRole("link", { name: "Skip to messages" }).focus();
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("messages");
    // Still on the same conversation: following a skip link does not touch the route.
    expect(await page.locator(".conversation__heading h2").textContent()).toBe("Roadmap");

    expect(await page.getByRole("heading", { level: 1 }).allTextContents()).toEqual(["Parley"]);
    expect(await page.getByRole("heading", { level: 2 }).allTextContents()).toEqual(["Conversations", "Roadmap"]);
  });

  it("on a phone, makes Enter a new line in the composer and sends with the Send button", async () => {
    const phone = await openPerson(browser, server.url, { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    try {
      const { page } = phone;
      expect(await page.evaluate(() => matchMedia("(pointer: coarse) and (hover: none)").matches)).toBe(true);
      await logIn(page, "kim");
      await openConversation(page, "Lena Park");
      await composer(page).tap();
      await composer(page).pressSequentially("Two lines");
      await page.keyboard.press("Enter");
      await composer(page).pressSequentially("from my phone");
      expect(await composer(page).inputValue()).toBe("Two lines\nfrom my phone");
      expect(await messageBubble(page, "Two lines").count()).toBe(0);
      expect(await page.locator(".composer__keys").count()).toBe(0);
      expect(await composer(page).getAttribute("enterkeyhint")).toBe("enter");
      await page.getByRole("button", { name: "Send" }).tap();
      await messageBubble(page, "from my phone").waitFor();
      expect(await messageBubble(page, "from my phone").innerText()).toBe("Two lines\nfrom my phone");
      expect(await composer(page).inputValue()).toBe("");
    } finally {
      await phone.context.close();
    }
    // On the desktop, Enter still sends.
    await openConversation(kim.page, "Lena Park");
    await composer(kim.page).fill("Sent with Enter");
    await composer(kim.page).press("Enter");
    await messageBubble(kim.page, "Sent with Enter").waitFor();
    expect(await composer(kim.page).inputValue()).toBe("");
  });
});
