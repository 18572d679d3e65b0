// What people do to messages, in two browsers: Ada and Ben edit and delete, and each sees the
// other's changes live and after a reload. Mallory writes through the API what a browser must never
// run or follow: it shows as text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, composer, conversationLink, messageBubble, openConversation, send, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let ada: { context: BrowserContext; page: Page };
let ben: { context: BrowserContext; page: Page };
let mallory: ApiUser;

/** Live changes cross two browsers and a server on a loaded machine: wait for them this long. */
const LIVE = { timeout: 10_000 };

/** The row of the message whose text (or "Message deleted") matches. */
function messageRow(page: Page, text: string | RegExp): Locator {
  return page.locator(".msg", { has: page.locator(".msg__bubble", { hasText: text }) });
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Message actions in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    mallory = await apiUser(server.url, "mallory", PASSWORD, "Mallory Mischief");
    ada = await openPerson(browser, server.url);
    await signUp(ada.page, "ada", "Ada Lovelace");
    ben = await openPerson(browser, server.url);
    await signUp(ben.page, "ben", "Ben Okafor");
    await startConversation(ada.page, ["ben"]);
    await conversationLink(ben.page, "Ada Lovelace").waitFor(LIVE);
    await openConversation(ben.page, "Ada Lovelace");
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("renders Markdown: bold, italic, strike, code, lists, quotes and safe links", async () => {
    await send(ada.page, "**bold** _italic_ ~~gone~~ `code` [docs](https://example.com/docs)");
    const bubble = messageBubble(ben.page, "bold italic");
    await bubble.waitFor(LIVE);
    expect(await bubble.locator("strong").textContent()).toBe("bold");
    expect(await bubble.locator("em").textContent()).toBe("italic");
    expect(await bubble.locator("s").textContent()).toBe("gone");
    expect(await bubble.locator("code").textContent()).toBe("code");
    const link = bubble.getByRole("link", { name: "docs" });
    expect(await link.getAttribute("href")).toBe("https://example.com/docs");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    // The list's preview is the text without the marks.
    await expect.poll(() => conversationLink(ben.page, "Ada Lovelace").locator(".conv__preview").textContent(), LIVE).toBe("bold italic gone code docs");
  });

  it("edits one's last message with Up in the empty composer; the other sees it edited, live and after a reload", async () => {
    await send(ada.page, "Lunch at noon?");
    await messageBubble(ben.page, "Lunch at noon?").waitFor(LIVE);

    await composer(ada.page).press("ArrowUp");
    const editor = ada.page.getByRole("textbox", { name: "Edit message" });
    await editor.waitFor();
    expect(await editor.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await editor.inputValue()).toBe("Lunch at noon?");
    await editor.fill("Lunch at one?");
    await screenshot(ada.page, "message-edit");
    await editor.press("Enter");
    await editor.waitFor({ state: "hidden" });
    // Focus goes back where the edit started.
    await expect.poll(() => composer(ada.page).evaluate((el) => el === document.activeElement)).toBe(true);

    for (const page of [ada.page, ben.page]) {
      await messageRow(page, "Lunch at one?").locator(".msg__edited", { hasText: "edited" }).waitFor(LIVE);
      expect(await messageBubble(page, "Lunch at noon?").count()).toBe(0);
    }
    await ben.page.reload();
    await messageRow(ben.page, "Lunch at one?").locator(".msg__edited").waitFor();
    expect(await messageBubble(ben.page, "Lunch at noon?").count()).toBe(0);
  });

  it("cancels an edit with Escape, changing nothing", async () => {
    await send(ben.page, "See you there");
    await messageBubble(ada.page, "See you there").waitFor(LIVE);
    await messageRow(ben.page, "See you there").getByRole("button", { name: "Edit message" }).click();
    const editor = ben.page.getByRole("textbox", { name: "Edit message" });
    await editor.fill("Something else");
    await editor.press("Escape");
    await editor.waitFor({ state: "hidden" });
    await messageBubble(ben.page, "See you there").waitFor();
    expect(await messageRow(ben.page, "See you there").locator(".msg__edited").count()).toBe(0);
    // Focus is back on the button that opened it.
    await expect.poll(() => ben.page.evaluate(() => document.activeElement?.textContent)).toBe("Edit message");
  });

  it("offers no edit or delete of someone else's message in a direct conversation", async () => {
    const theirs = messageRow(ada.page, "See you there");
    expect(await theirs.getByRole("button", { name: "Edit message" }).count()).toBe(0);
    expect(await theirs.getByRole("button", { name: "Delete message" }).count()).toBe(0);
  });

  it("deletes after a confirmation; both see 'Message deleted', live and after a reload", async () => {
    await messageRow(ben.page, "See you there").getByRole("button", { name: "Delete message" }).click();
    const dialog = ben.page.getByRole("dialog", { name: "Delete message?" });
    await dialog.waitFor();
    // Cancel has focus: Enter by mistake deletes nothing.
    expect(await ben.page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await screenshot(ben.page, "message-delete-confirm");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    // The message's buttons go with it: focus goes on to the composer.
    await expect.poll(() => composer(ben.page).evaluate((el) => el === document.activeElement)).toBe(true);

    for (const page of [ben.page, ada.page]) {
      await expect.poll(() => messageBubble(page, "See you there").count(), LIVE).toBe(0);
      await messageBubble(page, "Message deleted").waitFor();
    }
    await expect.poll(() => conversationLink(ada.page, "Ben Okafor").locator(".conv__preview").textContent(), LIVE).toBe("Message deleted");
    await ada.page.reload();
    await messageBubble(ada.page, "Message deleted").waitFor();
    expect(await messageBubble(ada.page, "See you there").count()).toBe(0);
    await screenshot(ada.page, "message-deleted");
  });

  it("reacts with one click; both see the counts, who reacted, and their own highlighted, live and after a reload", async () => {
    await send(ben.page, "Ship it?");
    const onAda = messageRow(ada.page, "Ship it?");
    await onAda.waitFor(LIVE);
    await onAda.getByRole("button", { name: "React to message" }).click();
    const picker = onAda.getByRole("group", { name: "Add a reaction" });
    await picker.waitFor();
    await screenshot(ada.page, "reaction-picker");
    await picker.getByRole("button", { name: "👍" }).click();
    await picker.waitFor({ state: "hidden" });

    const thumbs = (page: Page) => messageRow(page, "Ship it?").locator('.reaction[data-emoji="👍"]');
    await expect.poll(() => thumbs(ben.page).getAttribute("aria-label"), LIVE).toBe("👍 1");
    expect(await thumbs(ben.page).getAttribute("aria-pressed")).toBe("false");
    await expect.poll(() => thumbs(ada.page).getAttribute("aria-pressed"), LIVE).toBe("true");

    // Ben adds his with one click on the same reaction.
    await thumbs(ben.page).click();
    for (const page of [ada.page, ben.page]) await expect.poll(() => thumbs(page).getAttribute("aria-label"), LIVE).toBe("👍 2");
    expect(await thumbs(ben.page).getAttribute("aria-pressed")).toBe("true");
    // Who reacted, named on hover and focus (and read as the button's description).
    await thumbs(ada.page).hover();
    const who = messageRow(ada.page, "Ship it?").locator(".reaction__who").first();
    await who.waitFor({ state: "visible" });
    expect(await who.textContent()).toBe("you and Ben Okafor reacted with 👍");
    await screenshot(ada.page, "reactions");

    // One more click takes Ada's away.
    await thumbs(ada.page).click();
    for (const page of [ada.page, ben.page]) await expect.poll(() => thumbs(page).getAttribute("aria-label"), LIVE).toBe("👍 1");
    await ben.page.reload();
    await expect.poll(() => thumbs(ben.page).getAttribute("aria-pressed"), LIVE).toBe("true");
    expect(await thumbs(ben.page).getAttribute("aria-label")).toBe("👍 1");
  });

  it("picks a reaction by keyboard, and Escape closes the picker where it was opened", async () => {
    const row = messageRow(ada.page, "Ship it?");
    const react = row.getByRole("button", { name: "React to message" });
    await react.focus();
    await ada.page.keyboard.press("Enter");
    const picker = row.getByRole("group", { name: "Add a reaction" });
    await picker.waitFor();
    expect(await ada.page.evaluate(() => document.activeElement?.textContent)).toBe("👍");
    await ada.page.keyboard.press("Escape");
    await picker.waitFor({ state: "hidden" });
    expect(await react.evaluate((el) => el === document.activeElement)).toBe(true);

    await ada.page.keyboard.press("Enter");
    await picker.waitFor();
    await ada.page.keyboard.press("ArrowRight");
    await ada.page.keyboard.press("Enter");
    await messageRow(ben.page, "Ship it?").locator('.reaction[data-emoji="❤️"]').waitFor(LIVE);
    expect(await row.locator('.reaction[data-emoji="❤️"]').getAttribute("aria-pressed")).toBe("true");
  });

  it("replies in a thread beside the conversation; both see replies and counts live and after a reload", async () => {
    const thread = (page: Page) => page.getByRole("complementary", { name: "Thread" });
    await messageRow(ada.page, "Lunch at one?").getByRole("button", { name: "Reply in thread" }).click();
    await thread(ada.page).waitFor();
    const reply = ada.page.getByRole("textbox", { name: "Reply in thread" });
    await expect.poll(() => reply.evaluate((el) => el === document.activeElement)).toBe(true);
    await reply.fill("Or noon, if you are hungry");
    await reply.press("Enter");
    await messageBubble(thread(ada.page), "Or noon, if you are hungry").waitFor(LIVE);

    // Ben: the count and "new" on the root in his main list; the reply itself only in the thread.
    const replies = messageRow(ben.page, "Lunch at one?").locator(".msg__replies");
    await expect.poll(() => replies.textContent(), LIVE).toMatch(/^1 reply · 1 new/);
    expect(await messageBubble(ben.page.locator(".messages"), "Or noon, if you are hungry").count()).toBe(0);
    await replies.click();
    await messageBubble(thread(ben.page), "Or noon, if you are hungry").waitFor(LIVE);
    await ben.page.getByRole("textbox", { name: "Reply in thread" }).fill("One it is");
    await ben.page.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    await messageBubble(thread(ada.page), "One it is").waitFor(LIVE);
    await expect.poll(() => messageRow(ada.page, "Lunch at one?").locator(".msg__replies").textContent(), LIVE).toMatch(/^2 replies/);
    await screenshot(ada.page, "thread");

    // Escape closes the thread, focus back on the root.
    await thread(ben.page).getByRole("region", { name: "Thread messages" }).focus();
    await ben.page.keyboard.press("Escape");
    await thread(ben.page).waitFor({ state: "hidden" });
    await expect.poll(() => ben.page.evaluate(() => document.activeElement?.classList.contains("msg__replies"))).toBe(true);

    await ben.page.reload();
    await expect.poll(() => messageRow(ben.page, "Lunch at one?").locator(".msg__replies").textContent(), LIVE).toMatch(/^2 replies/);
    expect(await messageBubble(ben.page.locator(".messages"), "One it is").count()).toBe(0);
    await messageRow(ben.page, "Lunch at one?").locator(".msg__replies").click();
    await messageBubble(thread(ben.page), "Or noon, if you are hungry").waitFor(LIVE);
    await messageBubble(thread(ben.page), "One it is").waitFor();
    await ben.page.getByRole("button", { name: "Close thread" }).click();
    await ada.page.getByRole("button", { name: "Close thread" }).click();
  });

  it("shows a thread as the whole view on a narrow screen, and the conversation again when it closes", async () => {
    await ada.page.setViewportSize({ width: 390, height: 800 });
    try {
      await messageRow(ada.page, "Lunch at one?").locator(".msg__replies").click();
      const panel = ada.page.getByRole("complementary", { name: "Thread" });
      await messageBubble(panel, "One it is").waitFor();
      expect(await panel.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 800 });
      await screenshot(ada.page, "thread-narrow");
      await panel.getByRole("button", { name: "Close thread" }).click();
      await panel.waitFor({ state: "hidden" });
      await messageBubble(ada.page, "Lunch at one?").waitFor();
    } finally {
      await ada.page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it("offers the members after @ in the composer, by keyboard, and highlights a mention of the reader", async () => {
    const input = composer(ada.page);
    await input.fill("Thanks @b");
    const list = ada.page.getByRole("listbox", { name: "People to mention" });
    await list.waitFor();
    expect(await list.getByRole("option").allTextContents()).toEqual(["Ben Okafor @ben"]);
    expect(await input.getAttribute("aria-activedescendant")).toBe(await list.getByRole("option").first().getAttribute("id"));
    await screenshot(ada.page, "mention-autocomplete");
    // Escape closes the list and keeps the text; typing on after a new @ opens it again.
    await input.press("Escape");
    await list.waitFor({ state: "hidden" });
    expect(await input.inputValue()).toBe("Thanks @b");
    await input.press("Backspace");
    await input.press("Backspace");
    await input.pressSequentially("@");
    await list.waitFor();
    // On a busy machine the next frame comes late: keys typed right after the choice must land
    // after it, not where the caret was put back a frame later. Frames are held until flushed here.
    await ada.page.evaluate(() => {
      const held: FrameRequestCallback[] = [];
      const original = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (callback) => held.push(callback);
      Object.assign(window, {
        releaseFrames: () => {
          window.requestAnimationFrame = original;
          for (const callback of held.splice(0)) callback(performance.now());
        },
      });
    });
    await input.press("Tab");
    expect(await input.inputValue()).toBe("Thanks @ben ");
    await input.pressSequentially("for");
    await ada.page.evaluate(() => (window as unknown as { releaseFrames(): void }).releaseFrames());
    await input.pressSequentially(" lunch");
    expect(await input.inputValue()).toBe("Thanks @ben for lunch");
    await input.press("Enter");
    // Sent (the composer empties), so that a failure below is about delivery, not the keypress.
    await expect.poll(() => input.inputValue(), LIVE).toBe("");

    const onBen = messageRow(ben.page, "Thanks @ben for lunch");
    await onBen.locator(".mention--me", { hasText: "@ben" }).waitFor(LIVE);
    expect(await onBen.getAttribute("class")).toContain("msg--mentions-me");
    // The sender sees the mention marked, not highlighted as theirs.
    const onAda = messageRow(ada.page, "Thanks @ben for lunch");
    await onAda.locator(".mention", { hasText: "@ben" }).waitFor();
    expect(await onAda.locator(".mention--me").count()).toBe(0);
  });

  it("renders a hostile Markdown message as text: nothing runs, no handler attributes, no script links", async () => {
    const hostile = [
      "<script>window.__pwned = 'script'</script>",
      "<img src=x onerror=\"window.__pwned = 'img'\">",
      "<div onmouseover=\"window.__pwned = 'div'\">hover me</div>",
      "[click me](javascript:window.__pwned='link')",
      "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "![tracker](https://evil.example/pixel.png)",
      "<a href=\"javascript:window.__pwned='a'\">raw link</a>",
      "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
      "```\n<script>window.__pwned = 'fenced'</script>\n```",
    ].join("\n\n");
    const adaId = (await mallory.api.user.search.query({ query: "ada" }))[0]!.id;
    const group = await mallory.api.conversation.create.mutate({ title: "Totally safe", memberIds: [adaId] });
    await mallory.api.message.send.mutate({ conversationId: group.id, content: hostile, clientMessageId: "hostile-1" });

    await openConversation(ada.page, "Totally safe");
    const bubble = messageBubble(ada.page, "hover me");
    await bubble.waitFor(LIVE);
    await bubble.hover();
    await bubble.getByText("click me").click();
    await bubble.getByText("raw link").click();

    expect(await ada.page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
    const inside = await bubble.evaluate((el) => ({
      handlers: [...el.querySelectorAll("*")].flatMap((node) => [...node.attributes].filter((a) => a.name.startsWith("on")).map((a) => a.name)),
      elements: [...el.querySelectorAll("script, img, iframe, div, svg, style")].length,
      sources: el.querySelectorAll("[src]").length,
      hrefs: [...el.querySelectorAll("[href]")].map((node) => node.getAttribute("href")),
      text: el.textContent ?? "",
    }));
    expect(inside.handlers).toEqual([]);
    expect(inside.elements).toBe(0);
    expect(inside.sources).toBe(0);
    // The image is not loaded; at most its address is a plain web link.
    expect(inside.hrefs).toEqual(["https://evil.example/pixel.png"]);
    // What was written is there to read.
    expect(inside.text).toContain("<script>window.__pwned = 'script'</script>");
    expect(inside.text).toContain("[click me](javascript:window.__pwned='link')");
    // Still the app: the page did not navigate away.
    await ada.page.locator(".conversation__heading h2", { hasText: "Totally safe" }).waitFor();
    await screenshot(ada.page, "message-hostile-markdown");
  });
});
