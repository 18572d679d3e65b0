// Offline in real browsers: a message written while the server is down survives a reload and is
// delivered once when the server is back; a message that waits a long time offline is never given
// up; drafts survive a reload; signing out leaves nothing of the person behind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { composer, logIn, send, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let olive: { context: BrowserContext; page: Page };
let oscar: ApiUser;
let conversationId: string;

/** The unsent messages the app keeps in IndexedDB ("parley.outbox"), of every user. */
function storedOutbox(page: Page): Promise<{ content: string }[]> {
  return page.evaluate(
    () =>
      new Promise<{ content: string }[]>((resolve, reject) => {
        const open = indexedDB.open("parley.outbox", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("entries");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction("entries").objectStore("entries").getAll();
          all.onsuccess = () => {
            open.result.close();
            resolve(all.result as { content: string }[]);
          };
          all.onerror = () => reject(all.error);
        };
      }),
  );
}

/** How many messages with this text the server stored in the conversation, as Oscar reads them. */
async function storedCount(content: string): Promise<number> {
  const page = await oscar.api.message.list.query({ conversationId, limit: 100 });
  return page.items.filter((m) => m.content === content).length;
}

function ownMessage(page: Page, text: string, status: "pending" | "sent" | "failed") {
  return page.locator(`.msg--mine[data-status="${status}"]`, { hasText: text });
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`offline${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    oscar = await apiUser(server.url, "oscar", "correct horse battery staple", "Oscar Wilde");
    olive = await openPerson(browser, server.url);
    await signUp(olive.page, "olive", "Olive Kitteridge");
    await startConversation(olive.page, ["oscar"]);
    conversationId = (await olive.page.locator(".conversation[data-conversation-id]").getAttribute("data-conversation-id")) ?? "";
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("keeps a message written while the server is down across a reload and a closed tab, and delivers it once when the server is back", async () => {
    const text = "Written offline, then the page was reloaded";
    await server.stop();
    try {
      await send(olive.page, text);
      await ownMessage(olive.page, text, "pending").waitFor();
      await expect.poll(async () => (await storedOutbox(olive.page)).map((e) => e.content)).toEqual([text]);
      // The server is down: the browser shows its own error page. Then the tab is closed.
      await olive.page.reload().catch(() => undefined);
      await olive.page.close();
    } finally {
      await server.start();
    }
    olive.page = await olive.context.newPage();
    await olive.page.goto(`/#/c/${conversationId}`);
    await ownMessage(olive.page, text, "sent").waitFor({ timeout: 30_000 });
    await expect.poll(() => storedCount(text), { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await storedOutbox(olive.page)).length).toBe(0);
    expect(await olive.page.locator(".msg", { hasText: text }).count()).toBe(1);
  });

  it("keeps a draft per conversation across a reload, clears it on send, and forgets everything on sign-out", async () => {
    const { page } = olive;
    await page.reload();
    await composer(page).fill("Half a thought");
    await page.reload();
    await expect.poll(() => composer(page).inputValue()).toBe("Half a thought");
    await composer(page).press("Enter");
    await ownMessage(page, "Half a thought", "sent").waitFor();
    await page.reload();
    await ownMessage(page, "Half a thought", "sent").waitFor();
    expect(await composer(page).inputValue()).toBe("");

    await composer(page).fill("Never sent");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Welcome back" }).waitFor();
    const kept = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("parley.")));
    expect(kept).toEqual([]);
    expect(await storedOutbox(page)).toEqual([]);
  });

  it("opens the app from its cached shell while the server is down, with what it had, and recovers by itself", async () => {
    const sw = await fetch(`${server.url}/sw.js`);
    expect(sw.headers.get("cache-control")).toBe("no-cache");
    expect(sw.headers.get("content-type")).toContain("javascript");

    const pia = await openPerson(browser, server.url);
    await signUp(pia.page, "pia", "Pia Zadora");
    const piaId = (await oscar.api.user.list.query()).find((u) => u.username === "pia")!.id;
    const { id } = await oscar.api.conversation.create.mutate({ memberIds: [piaId] });
    await oscar.api.message.send.mutate({ conversationId: id, content: "Kept for a rainy day", clientMessageId: crypto.randomUUID() });
    await pia.page.goto(`/#/c/${id}`);
    await pia.page.locator(".msg__bubble", { hasText: "Kept for a rainy day" }).waitFor();
    await pia.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    // What is on screen has been kept for the next page.
    await expect
      .poll(() => pia.page.evaluate((key) => localStorage.getItem(key)?.includes("Kept for a rainy day") ?? false, `parley.cache.${piaId}`))
      .toBe(true);

    await server.stop();
    try {
      await pia.page.reload();
      await pia.page.locator(".msg__bubble", { hasText: "Kept for a rainy day" }).waitFor();
      await pia.page.locator(".conv__title", { hasText: "Oscar Wilde" }).waitFor();
      await expect.poll(() => pia.page.locator(".pill[data-connection]").getAttribute("data-connection")).toBe("reconnecting");
      await screenshot(pia.page, "offline-shell-reconnecting");
      await pia.page.evaluate(() => Object.assign(window, { __notReloaded: true }));
    } finally {
      await server.start();
    }
    await expect.poll(() => pia.page.locator(".pill[data-connection]").getAttribute("data-connection"), { timeout: 45_000 }).toBe("connected");
    await oscar.api.message.send.mutate({ conversationId: id, content: "And the sun is back", clientMessageId: crypto.randomUUID() });
    await pia.page.locator(".msg__bubble", { hasText: "And the sun is back" }).waitFor();
    expect(await pia.page.evaluate(() => "__notReloaded" in window)).toBe(true);
    await pia.context.close();
  });

  it("has one tab send what another tab wrote offline: only once that tab is closed, and then exactly once", async () => {
    const quinn = await openPerson(browser, server.url);
    await signUp(quinn.page, "quinn", "Quinn Fabray");
    const quinnId = (await oscar.api.user.list.query()).find((u) => u.username === "quinn")!.id;
    const { id } = await oscar.api.conversation.create.mutate({ memberIds: [quinnId] });
    const tabA = quinn.page;
    const tabB = await quinn.context.newPage();
    const sends = new Map<Page, number>([
      [tabA, 0],
      [tabB, 0],
    ]);
    for (const tab of [tabA, tabB]) {
      tab.on("request", (request) => {
        if (request.url().includes("/trpc/message.send")) sends.set(tab, (sends.get(tab) ?? 0) + 1);
      });
      await tab.goto(`/#/c/${id}`);
      await tab.locator(".pill[data-connection='connected']").waitFor();
    }
    const countIn = (tab: Page, text: string) => tab.locator(".msg", { hasText: text }).count();

    // Both tabs open: the tab that wrote it sends it; the other only shows it, once.
    await server.stop();
    try {
      await send(tabA, "From tab A, written offline");
      await expect.poll(async () => (await storedOutbox(tabA)).length).toBe(1);
    } finally {
      await server.start();
    }
    await ownMessage(tabA, "From tab A, written offline", "sent").waitFor({ timeout: 30_000 });
    await ownMessage(tabB, "From tab A, written offline", "sent").waitFor({ timeout: 30_000 });
    expect(await countIn(tabB, "From tab A, written offline")).toBe(1);
    expect(sends.get(tabB)).toBe(0);

    // The tab that wrote it is closed before the server is back: the other one sends it.
    await server.stop();
    try {
      await send(tabA, "Left behind by a closed tab");
      await expect.poll(async () => (await storedOutbox(tabA)).length).toBe(1);
      await tabA.close();
    } finally {
      await server.start();
    }
    await ownMessage(tabB, "Left behind by a closed tab", "sent").waitFor({ timeout: 30_000 });
    expect(sends.get(tabB)).toBeGreaterThanOrEqual(1);
    await expect.poll(() => oscar.api.message.list.query({ conversationId: id }).then((p) => p.items.map((m) => m.content))).toEqual([
      "From tab A, written offline",
      "Left behind by a closed tab",
    ]);
    expect(await countIn(tabB, "Left behind by a closed tab")).toBe(1);
    await quinn.context.close();
  });

  it("never gives up a message that waits long offline, and sends it when the connection is back", async () => {
    const text = "Waited more than a minute";
    const { page } = olive;
    // The page's clock runs only when the test moves it, so a minute offline takes a moment.
    await page.clock.install();
    await page.reload();
    await logIn(page, "olive");
    await page.goto(`/#/c/${conversationId}`);
    await page.locator(".pill[data-connection='connected']").waitFor();
    const advance = async (seconds: number) => {
      for (let s = 0; s < seconds; s += 2) {
        await page.clock.runFor(2_000);
        // Real time for the requests the timers started to fail or succeed.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    };
    let attempts = 0;
    page.on("request", (request) => {
      if (request.url().includes("/trpc/message.send")) attempts += 1;
    });
    await server.stop();
    try {
      await send(page, text);
      // Longer than every backoff before the sixth attempt together (at most 60 s): the web app
      // used to give up after six.
      await advance(70);
      expect(attempts).toBeGreaterThanOrEqual(6);
      await ownMessage(page, text, "pending").and(page.locator("[data-waiting]")).waitFor();
      await page.getByText("Waiting for connection…").waitFor();
      expect(await ownMessage(page, text, "failed").count()).toBe(0);
      await screenshot(page, "message-waiting-for-connection");
    } finally {
      await server.start();
    }
    for (let i = 0; i < 40 && (await ownMessage(page, text, "sent").count()) === 0; i += 1) await advance(2);
    await ownMessage(page, text, "sent").waitFor();
    expect(await storedCount(text)).toBe(1);
  });
});
