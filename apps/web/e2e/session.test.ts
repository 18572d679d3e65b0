// Sessions in real browsers, against a server whose access tokens live only seconds: tokens are
// refreshed before they expire - once per browser however many tabs are open - the live connection
// follows the new token, and a session the server has ended sends every tab back to the login screen.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { anonymousClient, apiUser } from "./support/api";
import { PASSWORD, connectionPill, logIn, messageBubble, openConversation, send, signUp, storedSession as stored } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

const ACCESS_TTL_SECONDS = 6;

let server: TestServer;
let browser: Browser;
let erin: { context: BrowserContext; page: Page };
let conversationId: string;

/** Frank's tokens live only seconds too: he logs in afresh for each message. */
async function frankSends(content: string): Promise<void> {
  const frank = await apiUser(server.url, "frank", PASSWORD, "", true);
  await frank.api.message.send.mutate({ conversationId, content, clientMessageId: crypto.randomUUID() });
}

/** The tokens each WebSocket of the page authenticated with, in order. */
function recordSocketTokens(page: Page): string[] {
  const tokens: string[] = [];
  page.on("websocket", (ws) =>
    ws.on("framesent", ({ payload }) => {
      const text = String(payload);
      if (text.includes('"connectionParams"')) tokens.push((JSON.parse(text) as { data: { token: string } }).data.token);
    }),
  );
  return tokens;
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`sessions${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer({ api: { accessTtlSeconds: ACCESS_TTL_SECONDS } });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("refreshes tokens before they expire, once for all tabs, and reconnects the live stream with them", async () => {
    erin = await openPerson(browser, server.url);
    const socketTokens = recordSocketTokens(erin.page);
    await signUp(erin.page, "erin", "Erin Hale");
    const frank = await apiUser(server.url, "frank", PASSWORD, "Frank Ocean");
    const erinId = (await frank.api.user.list.query()).find((u) => u.username === "erin")!.id;
    conversationId = (await frank.api.conversation.create.mutate({ memberIds: [erinId] })).id;

    // Four tabs, each with its own timer, for several refresh cycles: a refresh token presented
    // twice would end the session.
    const presented: string[] = [];
    const recordRefreshes = (page: Page) =>
      page.on("request", (request) => {
        if (request.url().includes("/trpc/auth.refresh")) presented.push(request.postData() ?? "");
      });
    recordRefreshes(erin.page);
    const otherTabs: Page[] = [];
    for (let i = 0; i < 3; i += 1) {
      const tab = await erin.context.newPage();
      recordRefreshes(tab);
      await tab.goto("/");
      await tab.locator(".sidebar").waitFor();
      otherTabs.push(tab);
    }
    const secondTab = otherTabs[0]!;

    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const session = await stored(erin.page);
          if (session) seen.add(session.accessToken);
          return seen.size;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(4);
    expect(presented.length).toBeGreaterThanOrEqual(3);
    expect(new Set(presented).size).toBe(presented.length);

    for (const page of [erin.page, secondTab]) {
      expect(await page.getByRole("heading", { name: "Welcome back" }).count()).toBe(0);
      await expect.poll(() => connectionPill(page).getAttribute("data-connection")).toBe("connected");
    }
    // The socket reconnected with each new token.
    expect(new Set(socketTokens).size).toBeGreaterThanOrEqual(3);

    // Well past the first token's expiry, calls and the live stream still work.
    await frankSends("Still with us?");
    await openConversation(erin.page, "Frank Ocean");
    await messageBubble(erin.page, "Still with us?").waitFor();
    await send(erin.page, "Yes, all good.");
    await erin.page.locator('.msg--mine[data-status="sent"]', { hasText: "Yes, all good." }).waitFor();
    await frankSends("Live after refresh");
    await messageBubble(erin.page, "Live after refresh").waitFor();
    for (const tab of otherTabs) await tab.close();
  });

  it("sends every tab to the login screen, saying why, when the server ends the session", async () => {
    const secondTab = await erin.context.newPage();
    await secondTab.goto("/");
    await secondTab.locator(".sidebar").waitFor();

    // What was on screen is kept in this browser while the session lasts...
    const keptViews = () => erin.page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("parley.cache.")).length);
    await expect.poll(keptViews, { timeout: 10_000 }).toBe(1);

    // Someone else presents the browser's refresh token first (as a thief would): the server
    // rotates it, and the browser's next refresh is a reuse, which ends the session.
    const session = await stored(erin.page);
    await anonymousClient(server.url).auth.refresh.mutate({ refreshToken: session!.refreshToken });

    const message = "Your session has ended. Please log in again.";
    for (const page of [erin.page, secondTab]) {
      await page.getByRole("heading", { name: "Welcome back" }).waitFor({ timeout: 20_000 });
      await page.getByText(message).waitFor();
    }
    expect(await stored(erin.page)).toBeNull();
    // ...and goes with it.
    expect(await keptViews()).toBe(0);

    await logIn(secondTab, "erin");
    await secondTab.locator(".sidebar").waitFor();
    // The other tab follows.
    await erin.page.locator(".sidebar").waitFor();
    await secondTab.close();
  });
});
