// Browser notifications and per-conversation levels: Omar's tab is hidden (as the page sees it) and
// his browser has granted notifications (a recording stand-in for the Notification API); Nia writes
// to him. A notification shows for a direct message, is withdrawn when he reads it on another device,
// and follows the level he picks in the conversation's menu.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, conversationLink, messageBubble, openConversation, send, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let nia: { context: BrowserContext; page: Page };
let omar: { context: BrowserContext; page: Page };
let omarElsewhere: ApiUser;

const LIVE = { timeout: 10_000 };

interface Shown {
  title: string;
  body: string;
  closed: boolean;
}

/** Before the app loads: a Notification API that records, permission granted, and a switch for the tab's visibility. */
function fakeNotificationsAndVisibility(): void {
  const shown: { title: string; body: string; closed: boolean; close(): void }[] = [];
  class RecordingNotification {
    static permission = "granted";
    static requestPermission = () => Promise.resolve("granted");
    title: string;
    body: string;
    closed = false;
    onclick: (() => void) | null = null;
    constructor(title: string, options?: { body?: string }) {
      this.title = title;
      this.body = options?.body ?? "";
      shown.push(this);
    }
    close() {
      this.closed = true;
    }
  }
  let hidden = false;
  Object.assign(window, {
    Notification: RecordingNotification,
    __shown: shown,
    __setHidden: (value: boolean) => {
      hidden = value;
      document.dispatchEvent(new Event("visibilitychange"));
    },
  });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
}

const shown = (page: Page) => page.evaluate(() => ((window as unknown as { __shown: Shown[] }).__shown ?? []).map(({ title, body, closed }) => ({ title, body, closed })));
const setHidden = (page: Page, hidden: boolean) => page.evaluate((value) => (window as unknown as { __setHidden(v: boolean): void }).__setHidden(value), hidden);

async function chooseLevel(page: Page, label: string): Promise<void> {
  await page.locator(".notify__button").click();
  const menu = page.getByRole("menu", { name: "Notifications" });
  await menu.waitFor();
  await menu.getByRole("menuitemradio", { name: new RegExp(`^${label}`) }).click();
  await menu.waitFor({ state: "hidden" });
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Notifications in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    nia = await openPerson(browser, server.url);
    await signUp(nia.page, "nia", "Nia Nakamura");
    omar = await openPerson(browser, server.url, {}, (page) => void page.addInitScript(fakeNotificationsAndVisibility));
    await signUp(omar.page, "omar", "Omar Haddad");
    omarElsewhere = await apiUser(server.url, "omar", PASSWORD, "Omar Haddad", true);
    await startConversation(nia.page, ["omar"]);
    await conversationLink(omar.page, "Nia Nakamura").waitFor(LIVE);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("notifies of a direct message while the tab is hidden, and withdraws it once read on another device", async () => {
    await send(nia.page, "Visible now, so no notification");
    await messageBubble(nia.page, "Visible now, so no notification").locator("xpath=ancestor::*[@data-message-id]").waitFor(LIVE);
    await expect.poll(() => conversationLink(omar.page, "Nia Nakamura").locator(".conv__preview").textContent(), LIVE).toBe("Visible now, so no notification");
    expect(await shown(omar.page)).toEqual([]);

    await setHidden(omar.page, true);
    await send(nia.page, "**Are** you there?");
    await expect.poll(() => shown(omar.page), LIVE).toEqual([{ title: "Nia Nakamura", body: "Are you there?", closed: false }]);

    const messageId = await messageBubble(nia.page, "Are you there?").locator("xpath=ancestor::*[@data-message-id]").getAttribute("data-message-id");
    const [dm] = await omarElsewhere.api.conversation.list.query();
    await omarElsewhere.api.conversation.markRead.mutate({ conversationId: dm!.id, messageId: messageId! });
    await expect.poll(async () => (await shown(omar.page))[0]?.closed, LIVE).toBe(true);
  });

  it("mutes a conversation from its menu: nothing notifies, and the level holds after a reload", async () => {
    await setHidden(omar.page, false);
    await openConversation(omar.page, "Nia Nakamura");
    await chooseLevel(omar.page, "Muted");
    await omar.page.locator(".notify__button", { hasText: "Muted" }).waitFor(LIVE);
    await omar.page.locator(".notify__button").click();
    await screenshot(omar.page, "notify-menu");
    expect(await omar.page.getByRole("menuitemradio", { name: /^Muted/ }).getAttribute("aria-checked")).toBe("true");
    // Escape closes the menu and gives focus back to its button.
    await omar.page.keyboard.press("Escape");
    await expect.poll(() => omar.page.evaluate(() => document.activeElement?.classList.contains("notify__button"))).toBe(true);

    await omar.page.goto("/#/");
    await setHidden(omar.page, true);
    const before = (await shown(omar.page)).length;
    await send(nia.page, "@omar muted, so no notification");
    await expect.poll(() => conversationLink(omar.page, "Nia Nakamura").locator(".conv__preview").textContent(), LIVE).toBe("@omar muted, so no notification");
    expect((await shown(omar.page)).length).toBe(before);

    await omar.page.reload();
    await openConversation(omar.page, "Nia Nakamura");
    await omar.page.locator(".notify__button", { hasText: "Muted" }).waitFor();
  });

  it("at 'Mentions only', notifies only of a message that mentions the reader", async () => {
    await chooseLevel(omar.page, "Mentions only");
    await omar.page.locator(".notify__button", { hasText: "@ only" }).waitFor(LIVE);
    await omar.page.goto("/#/");
    await setHidden(omar.page, true);
    const before = (await shown(omar.page)).length;
    await send(nia.page, "Just chatting");
    await expect.poll(() => conversationLink(omar.page, "Nia Nakamura").locator(".conv__preview").textContent(), LIVE).toBe("Just chatting");
    expect((await shown(omar.page)).length).toBe(before);
    await send(nia.page, "@omar your turn");
    await expect.poll(async () => (await shown(omar.page)).at(-1)?.body, LIVE).toBe("@omar your turn");
  });
});
