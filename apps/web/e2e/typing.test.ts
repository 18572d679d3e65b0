// Live state between two people in a direct conversation, in real browsers: Marco's presence dot
// as he opens and closes the app, "Marco is typing…" while he types (gone when his message comes
// or when he stops), and "Seen" under Lena's message once he has read it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { apiUser } from "./support/api";
import { PASSWORD, composer, conversationLink, logIn, messageBubble, openConversation, send, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let lena: { context: BrowserContext; page: Page };
let marco: { context: BrowserContext; page: Page };

/** Live changes cross two browsers and a server on a loaded machine: wait for them this long. */
const LIVE = { timeout: 10_000 };

/** Marco's presence as Lena's list shows it: the dot's status and its words for screen readers. */
async function marcoAsListed(): Promise<{ dot: string | null; words: string | null }> {
  const link = conversationLink(lena.page, "Marco Rossi");
  const dot = link.locator("[data-presence]");
  if ((await dot.count()) === 0) return { dot: null, words: null };
  return { dot: await dot.getAttribute("data-presence"), words: await link.locator(".conv__top .sr-only").textContent() };
}

function typingLine(page: Page): Locator {
  return page.locator(".composer__typing");
}

const typingText = async (page: Page) => (await typingLine(page).textContent()) ?? "";

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Typing, presence and Seen in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    await apiUser(server.url, "marco", PASSWORD, "Marco Rossi");
    lena = await openPerson(browser, server.url);
    await signUp(lena.page, "lena", "Lena Berg");
    await startConversation(lena.page, ["marco"]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("shows the other person offline, then online when they open the app", async () => {
    await expect.poll(marcoAsListed, LIVE).toEqual({ dot: "offline", words: ", offline" });
    marco = await openPerson(browser, server.url);
    await logIn(marco.page, "marco");
    await expect.poll(marcoAsListed, LIVE).toEqual({ dot: "online", words: ", online" });
    await expect.poll(() => lena.page.locator(".conversation__subtitle").textContent(), LIVE).toBe("@marco · Online");
    await screenshot(lena.page, "presence-online");
  });

  it("shows who is typing to the other person only, and clears it when their message arrives", async () => {
    await openConversation(marco.page, "Lena Berg");
    await composer(marco.page).pressSequentially("Hello th");
    await expect.poll(() => typingText(lena.page), LIVE).toBe("Marco Rossi is typing…");
    expect(await typingText(marco.page)).toBe("");
    await screenshot(lena.page, "typing-indicator");

    await composer(marco.page).pressSequentially("ere");
    await composer(marco.page).press("Enter");
    await messageBubble(lena.page, "Hello there").waitFor();
    await expect.poll(() => typingText(lena.page), LIVE).toBe("");
  });

  it("clears the indicator by itself when the other person stops typing", async () => {
    await composer(marco.page).pressSequentially("Just a sec");
    await expect.poll(() => typingText(lena.page), LIVE).toBe("Marco Rossi is typing…");
    // Nothing more is typed or sent: it goes after the contract's 6 seconds.
    await expect.poll(() => typingText(lena.page), { timeout: 15_000 }).toBe("");
    expect(await messageBubble(lena.page, "Just a sec").count()).toBe(0);
    await composer(marco.page).fill("");
  });

  it("says Seen under one's last message once the other person has read it", async () => {
    await marco.page.goto("/#/");
    await send(lena.page, "Did you see the plan?");
    // Delivered to Marco, but not read: his conversation is not open.
    await expect.poll(() => conversationLink(marco.page, "Lena Berg").locator(".conv__preview").textContent(), LIVE).toBe("Did you see the plan?");
    const mine = lena.page.locator(".msg", { has: lena.page.locator(".msg__bubble", { hasText: "Did you see the plan?" }) });
    await mine.waitFor();
    expect(await lena.page.locator(".msg__status--seen").count()).toBe(0);

    await openConversation(marco.page, "Lena Berg");
    await mine.locator(".msg__status--seen", { hasText: "Seen" }).waitFor();
    expect(await lena.page.locator(".msg__status--seen").count()).toBe(1);
    await screenshot(lena.page, "seen");

    // The server keeps it: still Seen after a reload, with no new event to tell it.
    await lena.page.reload();
    await mine.locator(".msg__status--seen", { hasText: "Seen" }).waitFor();

    // His reply says it all: no Seen once the newest message is his.
    await send(marco.page, "Yes, looks good.");
    await messageBubble(lena.page, "Yes, looks good.").waitFor();
    await expect.poll(() => lena.page.locator(".msg__status--seen").count(), LIVE).toBe(0);
  });

  it("shows the other person offline again once they close the app", async () => {
    await marco.context.close();
    // The server waits out a 10 s grace period (a reload is not going offline).
    await expect.poll(marcoAsListed, { timeout: 30_000 }).toEqual({ dot: "offline", words: ", offline" });
  });
});
