// Parley in real browsers: people sign up, talk live, in pairs and groups, across a reload and a
// server restart. One server and one browser for the file; each person has their own context.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import {
  PASSWORD,
  composer,
  connectionPill,
  conversationLink,
  expectEachOnce,
  loadWholeHistory,
  loadedMessageCount,
  logIn,
  messageBubble,
  messageIdCounts,
  openConversation,
  readHistory,
  send,
  signUp,
  startConversation,
} from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let alice: { context: BrowserContext; page: Page };
let bob: { context: BrowserContext; page: Page };
let carol: ApiUser;

/** Set on the page's window: gone if the page reloads. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => Object.assign(window, { __notReloaded: true }));
}

async function wasNotReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => "__notReloaded" in window);
}

async function expectNoDuplicates(page: Page): Promise<void> {
  const counts = await messageIdCounts(page);
  expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Parley in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("shows the login screen to a newcomer", async () => {
    const scripts: { encoding: string | undefined; length: number }[] = [];
    alice = await openPerson(browser, server.url, {}, (page) =>
      page.on("response", (response) => {
        if (/\/assets\/.*\.js$/.test(response.url())) {
          scripts.push({ encoding: response.headers()["content-encoding"], length: Number(response.headers()["content-length"]) });
        }
      }),
    );
    await alice.page.getByRole("heading", { name: "Welcome back" }).waitFor();
    // The app's script came compressed (the build's brotli or gzip copy): a fraction of its size.
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(["br", "gzip"]).toContain(script.encoding);
      expect(script.length).toBeLessThan(200_000);
    }
    await expect.poll(() => alice.page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("username");
    await screenshot(alice.page, "login");
  });

  it("lets two people sign up in separate browsers", async () => {
    await signUp(alice.page, "alice", "Alice Liddell");
    bob = await openPerson(browser, server.url);
    await signUp(bob.page, "bob", "Bob Stone");
    await expect.poll(() => connectionPill(bob.page).getAttribute("data-connection")).toBe("connected");
    await expect.poll(() => bob.page.locator(".me__username").textContent()).toBe("@bob");
  });

  it("says plainly when a name is taken or a password is wrong", async () => {
    const stranger = await openPerson(browser, server.url);
    await stranger.page.getByRole("button", { name: "Create an account" }).click();
    await stranger.page.getByLabel("Username").fill("ALICE");
    await stranger.page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await stranger.page.getByRole("button", { name: "Create account" }).click();
    await stranger.page.getByText("That username is taken. Try another one.").waitFor();

    await stranger.page.getByRole("button", { name: "Log in" }).click();
    await logIn(stranger.page, "alice", "not the password");
    await stranger.page.getByRole("alert").filter({ hasText: "Wrong username or password." }).waitFor();
    await stranger.context.close();
  });

  it("delivers a direct message live, without a reload", async () => {
    await markPage(bob.page);
    await startConversation(alice.page, ["bob"]);
    await send(alice.page, "Hi Bob! Have you got a minute for the launch plan?");
    await alice.page.locator('.msg--mine[data-status="sent"]').first().waitFor();

    // The conversation appears in Bob's list on its own, with the message as its preview.
    const link = conversationLink(bob.page, "Alice Liddell");
    await link.waitFor();
    await expect.poll(() => link.locator(".conv__preview").textContent()).toContain("Have you got a minute");
    await expect.poll(() => link.locator(".badge").textContent()).toContain("1");

    await openConversation(bob.page, "Alice Liddell");
    await messageBubble(bob.page, "Have you got a minute").waitFor();
    await send(bob.page, "Sure, what's up?");
    await messageBubble(alice.page, "Sure, what's up?").waitFor();
    await send(alice.page, "Shift+Enter works too:");
    await composer(alice.page).fill("First line");
    await composer(alice.page).press("Shift+Enter");
    await composer(alice.page).pressSequentially("second line");
    await composer(alice.page).press("Enter");
    await messageBubble(bob.page, "second line").waitFor();
    expect(await messageBubble(bob.page, "second line").innerText()).toBe("First line\nsecond line");

    expect(await wasNotReloaded(bob.page)).toBe(true);
    await expectNoDuplicates(alice.page);
    await expectNoDuplicates(bob.page);
  });

  it("reopens the existing direct conversation instead of starting another", async () => {
    const firstId = await alice.page.locator(".conversation").getAttribute("data-conversation-id");
    await alice.page.goto("/#/");
    await startConversation(alice.page, ["bob"]);
    expect(await alice.page.locator(".conversation").getAttribute("data-conversation-id")).toBe(firstId);
    await expect.poll(() => alice.page.locator(".conv").count()).toBe(1);
  });

  it("shows the limit and refuses a message that is too long", async () => {
    await composer(alice.page).fill("x".repeat(4001));
    await alice.page.getByText("Too long: at most 4,000 characters.").waitFor();
    expect(await alice.page.locator(".composer__count").textContent()).toBe("4,001 / 4,000");
    expect(await alice.page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await composer(alice.page).fill("");
  });

  it("lets three people talk in a group", async () => {
    carol = await apiUser(server.url, "carol", PASSWORD, "Carol Danvers");
    await startConversation(alice.page, ["bob", "carol"], "Launch plan");
    await send(alice.page, "Welcome to the launch group! Agenda: https://example.com/launch");

    await conversationLink(bob.page, "Launch plan").waitFor();
    await openConversation(bob.page, "Launch plan");
    await messageBubble(bob.page, "Welcome to the launch group").waitFor();

    const group = (await carol.api.conversation.list.query()).find((c) => c.title === "Launch plan");
    expect(group?.members.map((m) => m.username).sort()).toEqual(["alice", "bob", "carol"]);
    const fromCarol = await carol.api.message.send.mutate({
      conversationId: group!.id,
      content: "Thanks Alice. I'll bring the numbers.",
      clientMessageId: crypto.randomUUID(),
    });
    for (const page of [alice.page, bob.page]) {
      await page.locator(`[data-message-id="${fromCarol.id}"]`).waitFor();
      await page.locator(".msg__sender", { hasText: "Carol Danvers" }).waitFor();
    }
    await send(bob.page, "Great, see you both at 10.");
    await messageBubble(alice.page, "see you both at 10").waitFor();
    await send(alice.page, "Perfect, thank you both!");
    await messageBubble(bob.page, "Perfect, thank you both!").waitFor();
    await alice.page.locator('.msg--mine[data-status="sent"]', { hasText: "Perfect" }).waitFor();

    await alice.page.mouse.move(900, 300);
    await screenshot(alice.page, "conversation");
    await alice.page.emulateMedia({ colorScheme: "dark" });
    await screenshot(alice.page, "conversation-dark");
    await alice.page.emulateMedia({ colorScheme: "light" });
  });

  it("loads older history when scrolling up", async () => {
    const dave = await apiUser(server.url, "dave", PASSWORD, "Dave Grohl");
    const direct = await dave.api.conversation.create.mutate({ memberIds: [await aliceId()] });
    const total = 75;
    const sent: string[] = [];
    for (let i = 1; i <= total; i += 1) {
      const m = await dave.api.message.send.mutate({ conversationId: direct.id, content: `History message ${i}`, clientMessageId: crypto.randomUUID() });
      sent.push(m.id);
    }
    // Start afresh, so that what is on screen comes from history rather than the live stream.
    await alice.page.reload();
    await openConversation(alice.page, "Dave Grohl");
    await messageBubble(alice.page, new RegExp(`^History message ${total}$`)).waitFor();
    // The first page: the newest 50.
    expect(await loadedMessageCount(alice.page)).toBe(50);
    expect(await messageBubble(alice.page, /^History message 1$/).count()).toBe(0);

    await loadWholeHistory(alice.page, total);
    await messageBubble(alice.page, /^History message 1$/).waitFor();
    await expectNoDuplicates(alice.page);
    // Every message once, in order, reading down from the beginning.
    expect(await readHistory(alice.page)).toEqual(sent);
    await expectNoDuplicates(alice.page);
  });

  it("keeps the session across a reload", async () => {
    await bob.page.reload();
    await conversationLink(bob.page, "Launch plan").waitFor();
    expect(await bob.page.getByRole("heading", { name: "Welcome back" }).count()).toBe(0);
    await bob.page.locator(".conversation__heading h2", { hasText: "Launch plan" }).waitFor();
    await messageBubble(bob.page, "Welcome to the launch group").waitFor();
    await expect.poll(() => connectionPill(bob.page).getAttribute("data-connection")).toBe("connected");

    await alice.page.goto("/#/");
    await conversationLink(alice.page, "Launch plan").waitFor();
    await alice.page.mouse.move(900, 700);
    await screenshot(alice.page, "conversation-list");
    await alice.page.locator(".sidebar__header").getByRole("button", { name: "New conversation" }).click();
    const dialog = alice.page.getByRole("dialog", { name: "New conversation" });
    for (const username of ["bob", "dave"]) {
      await dialog.getByPlaceholder("Search by name or username").fill(username);
      await dialog.locator(`[data-username="${username}"]`).click();
    }
    await dialog.getByLabel("Group name (optional)").fill("Design review");
    await screenshot(alice.page, "new-conversation");
    await alice.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(alice.page, "conversation-list-mobile");
    await openConversation(alice.page, "Launch plan");
    await screenshot(alice.page, "conversation-mobile");
    await alice.page.setViewportSize({ width: 1280, height: 800 });
  });

  it("shows messages sent during a server restart exactly once in every browser", async () => {
    const group = (await carol.api.conversation.list.query()).find((c) => c.title === "Launch plan")!;
    for (const page of [alice.page, bob.page]) {
      await page.locator(".conversation__heading h2", { hasText: "Launch plan" }).waitFor();
      await expect.poll(() => connectionPill(page).getAttribute("data-connection")).toBe("connected");
    }

    expect(server.liveSubscriptions()).toBe(2);
    await server.restart();
    // Right away, before the browsers have reconnected (they back off with jitter).
    const sent = [];
    for (const text of ["Back online?", "The server restarted.", "Nothing lost, nothing twice."]) {
      sent.push(await carol.api.message.send.mutate({ conversationId: group.id, content: text, clientMessageId: crypto.randomUUID() }));
    }
    expect(server.liveSubscriptions()).toBeLessThan(2);

    for (const page of [alice.page, bob.page]) {
      await expectEachOnce(
        page,
        sent.map((m) => m.id),
      );
      await expect.poll(() => connectionPill(page).getAttribute("data-connection"), { timeout: 30_000 }).toBe("connected");
      await expectNoDuplicates(page);
    }
    expect(server.liveSubscriptions()).toBe(2);
    // And the conversation goes on.
    await send(bob.page, "All good here.");
    await messageBubble(alice.page, "All good here.").waitFor();
  });

  it("sends a message written while the server is down once it is back, exactly once", async () => {
    await server.stop();
    try {
      await send(alice.page, "Written while the server was down");
      const pending = alice.page.locator('.msg--mine[data-status="pending"]', { hasText: "Written while the server was down" });
      await pending.waitFor();
      await expect.poll(() => connectionPill(alice.page).getAttribute("data-connection"), { timeout: 10_000 }).toBe("reconnecting");
      await alice.page.getByText("Messages you send will go out as soon as the connection is back.").waitFor();
      await alice.page.locator(".msg__status--pending").last().waitFor();
      await screenshot(alice.page, "conversation-reconnecting");
    } finally {
      await server.start();
    }
    const delivered = alice.page.locator('.msg--mine[data-status="sent"]', { hasText: "Written while the server was down" });
    await delivered.waitFor({ timeout: 30_000 });
    const id = await delivered.getAttribute("data-message-id");
    expect(id).toBeTruthy();
    await expectEachOnce(bob.page, [id!]);
    await expectEachOnce(alice.page, [id!]);
    expect(await alice.page.locator(".msg", { hasText: "Written while the server was down" }).count()).toBe(1);
  });

  it("keeps several tabs of one person in step", async () => {
    const second = await alice.context.newPage();
    await second.goto("/#/");
    await openConversation(second, "Launch plan");
    await send(second, "Sent from my other tab");
    const inFirst = alice.page.locator(".msg--mine", { hasText: "Sent from my other tab" });
    await inFirst.waitFor();
    expect(await inFirst.count()).toBe(1);

    await second.getByRole("button", { name: "Log out" }).click();
    await second.getByRole("heading", { name: "Welcome back" }).waitFor();
    await alice.page.getByRole("heading", { name: "Welcome back" }).waitFor();
    await second.close();
  });
});

async function aliceId(): Promise<string> {
  const me = await apiUser(server.url, "alice", PASSWORD, "", true);
  return me.id;
}
