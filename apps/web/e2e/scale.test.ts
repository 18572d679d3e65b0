// The web app at a realistic size: one person in 50 conversations holding 5,000 messages, seeded
// through the real API within the server's default limits (each sender stays under the message
// rate limit; every HTTP batch within the batch cap). The browser talks to a server with default
// limits throughout, so every limit meets the real client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { MAX_CALLS_PER_BATCH } from "@parley/api/limits";
import { anonymousClient, type ApiClient } from "./support/api";
import { PASSWORD, composer, loadWholeHistory, logIn, messageBubble } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startRefusingProxy, type RefusingProxy } from "./support/refusing-proxy";
import { startTestServer, type TestServer } from "./support/server";

const CONVERSATIONS = 50;
const MESSAGES_PER_CONVERSATION = 100;
/** Every fifth conversation is a group; the last one holds everyone (more than a list entry names). */
const isGroup = (k: number) => k % 5 === 4;
const EVERYONE = CONVERSATIONS - 1;
/** Senders at work at once while seeding. */
const SEEDING_CONCURRENCY = 5;

interface Seeded {
  victimId: string;
  /** Conversation ids, newest activity first, and the text of each one's last message. */
  expected: { id: string; last: string }[];
  /** A group of everyone, with 100 messages from many senders. */
  everyoneId: string;
}

let server: TestServer;
let proxy: RefusingProxy;
let browser: Browser;
let vera: { context: BrowserContext; page: Page };
let seeded: Seeded;
/** Calls in each HTTP request the browser made to the API. */
const batchSizes: number[] = [];
const refusedStatuses: number[] = [];

function authedClient(token: string): ApiClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({ url: `${server.url}/trpc`, maxItems: MAX_CALLS_PER_BATCH, headers: () => ({ Authorization: `Bearer ${token}` }) }),
    ],
  });
}

async function account(username: string, fullName: string): Promise<{ id: string; api: ApiClient }> {
  const anon = anonymousClient(server.url);
  const user = await anon.auth.signup.mutate({ username, password: PASSWORD, fullName });
  const tokens = await anon.auth.login.mutate({ username, password: PASSWORD });
  return { id: user.id, api: authedClient(tokens.accessToken) };
}

async function inTurns<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

const lastText = (k: number) => `Last word in conversation ${k}`;

async function seed(): Promise<Seeded> {
  const victim = await account("vera", "Vera Lynn");
  const senders: { id: string; api: ApiClient }[] = [];
  await inTurns(
    Array.from({ length: CONVERSATIONS }, (_, k) => k),
    SEEDING_CONCURRENCY,
    async (k) => {
      senders[k] = await account(`sender${k}`, `Sender Number ${k}`);
    },
  );
  const sender = (k: number) => senders[k] as { id: string; api: ApiClient };

  const ids: string[] = [];
  await inTurns(
    Array.from({ length: CONVERSATIONS }, (_, k) => k),
    SEEDING_CONCURRENCY,
    async (k) => {
      const memberIds =
        k === EVERYONE
          ? [victim.id, ...senders.filter((_, j) => j !== k).map((s) => s.id)]
          : isGroup(k)
            ? [victim.id, sender((k + 1) % CONVERSATIONS).id, sender((k + 2) % CONVERSATIONS).id]
            : [victim.id];
      const conversation = await sender(k).api.conversation.create.mutate({ memberIds, ...(isGroup(k) ? { title: `Group ${k}` } : {}) });
      ids[k] = conversation.id;
      // All but the last message, batched by the client within the server's cap. In the group of
      // everyone they come from many senders, so its senders include members a list entry leaves out.
      const from = (i: number) => (k === EVERYONE ? sender(i % CONVERSATIONS) : sender(k));
      const sends = Array.from({ length: MESSAGES_PER_CONVERSATION - 1 }, (_, i) =>
        from(i).api.message.send.mutate({ conversationId: conversation.id, content: `Message ${i + 1} of conversation ${k}`, clientMessageId: crypto.randomUUID() }),
      );
      await Promise.all(sends);
    },
  );

  // The last messages, one at a time in an order unlike creation order, so the expected list order
  // is neither creation order nor id order.
  const order = Array.from({ length: CONVERSATIONS }, (_, i) => (i * 7) % CONVERSATIONS);
  for (const k of order) {
    await sender(k).api.message.send.mutate({ conversationId: ids[k] as string, content: lastText(k), clientMessageId: crypto.randomUUID() });
  }
  const expected = order.reverse().map((k) => ({ id: ids[k] as string, last: lastText(k) }));
  return { victimId: victim.id, expected, everyoneId: ids[EVERYONE] as string };
}

function watchApiRequests(page: Page): void {
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/trpc/")) return;
    batchSizes.push(decodeURIComponent(url.pathname.slice("/trpc/".length)).split(",").length);
  });
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/trpc/") && response.status() >= 400 && response.status() < 500) {
      refusedStatuses.push(response.status());
    }
  });
}

/** The sidebar's conversations, in order, after scrolling it to the end until no more load. */
async function wholeList(page: Page): Promise<{ id: string; preview: string }[]> {
  const nav = page.getByRole("navigation", { name: "Conversations" });
  await page.locator(".conv").first().waitFor();
  await expect
    .poll(
      async () => {
        await nav.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        return page.locator(".conv").count();
      },
      { timeout: 20_000 },
    )
    .toBe(CONVERSATIONS);
  return page.locator(".conv").evaluateAll((links) =>
    links.map((link) => ({
      id: link.getAttribute("data-conversation-id") ?? "",
      preview: link.querySelector(".conv__preview")?.textContent ?? "",
    })),
  );
}

const LONG_CJK = "会议纪要".repeat(999);
const list10 = <T>(list: T[]) => list.slice(0, 10);

/** Another tab of hers announces a new conversation: the app refreshes its list. */
async function refreshListAsAnotherTabWould(page: Page): Promise<void> {
  await page.evaluate((userId) => {
    const channel = new BroadcastChannel("parley.conversations");
    channel.postMessage({ userId });
    channel.close();
  }, seeded.victimId);
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Parley with 50 conversations and 5,000 messages${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    proxy = await startRefusingProxy(server.port);
    seeded = await seed();
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.dispose();
  });

  it("lists every conversation with its real last message, newest activity first", async () => {
    vera = await openPerson(browser, proxy.url);
    watchApiRequests(vera.page);
    await logIn(vera.page, "vera");
    const list = await wholeList(vera.page);
    expect(list.map((c) => c.id)).toEqual(seeded.expected.map((c) => c.id));
    for (const [i, shown] of list.entries()) expect(shown.preview).toContain(seeded.expected[i]?.last);
    expect(await vera.page.getByText("No messages yet").count()).toBe(0);
    await screenshot(vera.page, "scale-list");
  });

  it("never sends an HTTP batch above the server's cap, and is never refused", async () => {
    expect(batchSizes.length).toBeGreaterThan(0);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(MAX_CALLS_PER_BATCH);
    expect(refusedStatuses).toEqual([]);
    expect(await vera.page.getByText("That request was not accepted.").count()).toBe(0);
  });

  it("pages back through a long conversation's history, naming senders a list entry leaves out", async () => {
    await vera.page.locator(`.conv[data-conversation-id="${seeded.everyoneId}"]`).click();
    await vera.page.locator(`.conversation[data-conversation-id="${seeded.everyoneId}"]`).waitFor();
    await loadWholeHistory(vera.page, MESSAGES_PER_CONVERSATION);
    await messageBubble(vera.page, new RegExp(`^Message 1 of conversation ${EVERYONE}$`)).waitFor();
    // Sender 45 is past the first 20 members a list entry carries: named from the full member list.
    // (Further down than one screen: scrolled to, as only the rows in view are rendered.)
    const row = vera.page.locator(".msg", { has: messageBubble(vera.page, new RegExp(`^Message 46 of conversation ${EVERYONE}$`)) });
    const scroller = vera.page.locator(".messages");
    await expect
      .poll(
        async () => {
          if ((await row.count()) === 0) await scroller.evaluate((el) => (el.scrollTop += el.clientHeight / 2));
          return row.count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    await expect.poll(() => row.locator(".msg__sender").textContent()).toBe("Sender Number 45");
    expect(await row.locator(".msg__username").textContent()).toBe("@sender45");
    expect(await vera.page.locator(".conversation__subtitle").textContent()).toContain(`${CONVERSATIONS + 1} members`);
  });

  it("shows the same list after each of five reloads", async () => {
    for (let i = 0; i < 5; i += 1) {
      await vera.page.goto("/#/");
      await vera.page.reload();
      const list = await wholeList(vera.page);
      expect(list.map((c) => c.id)).toEqual(seeded.expected.map((c) => c.id));
      for (const [j, shown] of list.entries()) expect(shown.preview).toContain(seeded.expected[j]?.last);
      expect(await vera.page.getByText("That request was not accepted.").count()).toBe(0);
    }
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(MAX_CALLS_PER_BATCH);
    expect(refusedStatuses).toEqual([]);
  });

  it("keeps the list on screen when every retry of a refresh fails", async () => {
    const nav = vera.page.getByRole("navigation", { name: "Conversations" });
    proxy.refuse("conversation.list");
    try {
      const refusedBefore = proxy.refusedCount();
      await refreshListAsAnotherTabWould(vera.page);
      // Refused again and again: the first try and the quiet retries (4 in the app).
      for (const refusals of [4, 5]) {
        await expect.poll(() => proxy.refusedCount(), { timeout: 40_000 }).toBeGreaterThanOrEqual(refusedBefore + refusals);
        await vera.page.waitForTimeout(500);
        expect(await vera.page.locator(".conv").count()).toBe(CONVERSATIONS);
        expect(await nav.getByRole("alert").count()).toBe(0);
        expect(await vera.page.getByText("Can't reach Parley right now").count()).toBe(0);
      }
    } finally {
      proxy.refuse(null);
    }
  });

  it("retries a failed refresh quietly until it succeeds, without a click", async () => {
    proxy.refuse("conversation.list");
    try {
      const refusedBefore = proxy.refusedCount();
      await refreshListAsAnotherTabWould(vera.page);
      await expect.poll(() => proxy.refusedCount(), { timeout: 15_000 }).toBeGreaterThanOrEqual(refusedBefore + 2);
    } finally {
      proxy.refuse(null);
    }
    await vera.page.waitForResponse((r) => r.url().includes("conversation.list") && r.status() === 200, { timeout: 30_000 });
    expect((await wholeList(vera.page)).map((c) => c.id)).toEqual(seeded.expected.map((c) => c.id));
  });

  it("shows an error with a retry button only when there is nothing to show", async () => {
    const fresh = await openPerson(browser, proxy.url);
    try {
      proxy.refuse("conversation.list");
      await logIn(fresh.page, "vera");
      const alert = fresh.page.getByRole("navigation", { name: "Conversations" }).getByRole("alert");
      // Retried quietly first (a skeleton meanwhile); the error comes once the retries are spent.
      await alert.waitFor({ timeout: 45_000 });
      expect(proxy.refusedCount()).toBeGreaterThan(1);
      await screenshot(fresh.page, "scale-list-refused");
      proxy.refuse(null);
      await alert.getByRole("button", { name: "Try again" }).click();
      const list = await wholeList(fresh.page);
      expect(list.map((c) => c.id)).toEqual(seeded.expected.map((c) => c.id));
    } finally {
      proxy.refuse(null);
      await fresh.context.close();
    }
  });

  it("sends long messages waiting in many conversations when the connection is back, each accepted", async () => {
    // Ten messages of 4,000 CJK characters (12 KB each as UTF-8): together they pass the server's
    // 100 KB body limit, each alone fits. They go out together when the browser is back online.
    const waiting = list10(await wholeList(vera.page));
    await vera.context.setOffline(true);
    try {
      for (const [i, conversation] of waiting.entries()) {
        await vera.page.locator(`.conv[data-conversation-id="${conversation.id}"]`).click();
        await vera.page.locator(`.conversation[data-conversation-id="${conversation.id}"]`).waitFor();
        await composer(vera.page).fill(`${i}${LONG_CJK}`);
        await composer(vera.page).press("Enter");
        await vera.page.locator('.msg--mine[data-status="pending"]').first().waitFor();
      }
    } finally {
      await vera.context.setOffline(false);
    }
    for (const [i, conversation] of waiting.entries()) {
      const preview = vera.page.locator(`.conv[data-conversation-id="${conversation.id}"] .conv__preview`);
      await expect.poll(() => preview.textContent(), { timeout: 30_000 }).toContain(`You: ${i}${LONG_CJK.slice(0, 10)}`);
    }
    expect(await vera.page.locator('.msg--mine[data-status="failed"]').count()).toBe(0);
    expect(refusedStatuses).toEqual([]);
  });

  it("tells apart a newcomer who takes someone's full name, and brings their new conversation in live", async () => {
    const searches: string[] = [];
    vera.page.on("request", (request) => {
      const path = decodeURIComponent(new URL(request.url()).pathname);
      if (path.includes("user.list") || path.includes("user.search")) searches.push(path);
    });
    const impostor = await account("impostor", "Sender Number 1");

    // The dialog asks the server for the people matching what is typed, each with their username.
    await vera.page.locator(".sidebar__header").getByRole("button", { name: "New conversation" }).click();
    const dialog = vera.page.getByRole("dialog", { name: "New conversation" });
    await dialog.getByPlaceholder("Search by name or username").fill("Sender Number 1");
    for (const username of ["sender1", "impostor"]) {
      const person = dialog.locator(`[data-username="${username}"]`);
      await expect.poll(() => person.locator(".person__name").textContent()).toBe("Sender Number 1");
      expect(await person.locator(".person__username").textContent()).toBe(`@${username}`);
    }
    await screenshot(vera.page, "scale-same-name");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.filter((path) => path.includes("user.list"))).toEqual([]);

    // A conversation the list never loaded arrives live, at the top, with who it really is.
    const direct = await impostor.api.conversation.create.mutate({ memberIds: [seeded.victimId] });
    await impostor.api.message.send.mutate({ conversationId: direct.id, content: "Hi Vera, it's me, Sender 1. New number.", clientMessageId: crypto.randomUUID() });
    const first = vera.page.locator(".conv").first();
    await expect.poll(() => first.getAttribute("data-conversation-id"), { timeout: 15_000 }).toBe(direct.id);
    expect(await first.locator(".conv__title").textContent()).toBe("Sender Number 1");
    expect(await first.locator(".conv__username").textContent()).toBe("@impostor");
    expect(await first.locator(".conv__preview").textContent()).toContain("New number.");
    await first.click();
    await vera.page.locator(".conversation__subtitle", { hasText: "@impostor" }).waitFor();
    await vera.page.locator(".msg__username", { hasText: "@impostor" }).waitFor();
  });
});
