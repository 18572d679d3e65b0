// What a person does in the Parley web app, in the words of its interface.
import { expect } from "vitest";
import type { Locator, Page } from "playwright-core";

export const PASSWORD = "correct horse battery staple";

export async function signUp(page: Page, username: string, fullName: string, password = PASSWORD): Promise<void> {
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Full name").fill(fullName);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("button", { name: "New conversation" }).first().waitFor();
}

export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Opens the new-conversation dialog, picks people by username, and opens the conversation. */
export async function startConversation(page: Page, usernames: string[], title?: string): Promise<void> {
  await page.locator(".sidebar__header").getByRole("button", { name: "New conversation" }).click();
  const dialog = page.getByRole("dialog", { name: "New conversation" });
  for (const username of usernames) {
    await dialog.getByPlaceholder("Search by name or username").fill(username);
    await dialog.locator(`[data-username="${username}"]`).click();
  }
  if (title) await dialog.getByLabel("Group name (optional)").fill(title);
  await dialog.locator(".dialog__footer .button--primary").click();
  await dialog.waitFor({ state: "hidden" });
  await page.locator(".conversation[data-conversation-id]").waitFor();
}

export function composer(page: Page): Locator {
  return page.getByRole("textbox", { name: /^Message to / });
}

export async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

export function conversationLink(page: Page, title: string): Locator {
  return page.locator(".conv").filter({ has: page.locator(".conv__title", { hasText: title }) });
}

export async function openConversation(page: Page, title: string): Promise<void> {
  await conversationLink(page, title).click();
  await page.locator(".conversation__heading h2", { hasText: title }).waitFor();
}

/** The stored messages on screen (those with an id), in order. */
export function storedMessages(page: Page): Locator {
  return page.locator(".message-list [data-message-id]");
}

/**
 * How many messages the open conversation has loaded. The list is virtualized (only the rows near
 * the view are in the DOM), so this is read from the rows' aria-setsize, not counted.
 */
export function loadedMessageCount(page: Page): Promise<number> {
  return page.locator(".message-row").first().evaluate((row) => Number(row.getAttribute("aria-setsize")));
}

/**
 * Scrolls to the top until `total` messages are loaded and the beginning of the conversation shows,
 * and leaves the view there (each page loaded above keeps the reader where they were).
 */
export async function loadWholeHistory(page: Page, total: number): Promise<void> {
  const scroller = page.locator(".messages");
  await expect
    .poll(
      async () => {
        await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
        return (await loadedMessageCount(page)) === total && (await page.locator(".beginning").count()) === 1;
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
}

/**
 * The ids of the stored messages as one reads the whole loaded history, top to bottom, half a
 * screen at a time (each is taken once, in order, however many screens it was rendered on).
 */
export async function readHistory(page: Page): Promise<string[]> {
  const scroller = page.locator(".messages");
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
  const seen: string[] = [];
  for (let step = 0; step < 2_000; step += 1) {
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const ids = await storedMessages(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-message-id") ?? ""));
    for (const id of ids) if (!seen.includes(id)) seen.push(id);
    const atEnd = await scroller.evaluate((el) => {
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return true;
      el.scrollTop += el.clientHeight / 2;
      return false;
    });
    if (atEnd) return seen;
  }
  throw new Error("readHistory: the end of the history was not reached");
}

export function messageBubble(page: Page | Locator, text: string | RegExp): Locator {
  return page.locator(".msg__bubble", { hasText: text });
}

/** How many times each message id is on screen. */
export async function messageIdCounts(page: Page): Promise<Map<string, number>> {
  const ids = await storedMessages(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-message-id") ?? ""));
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export async function expectEachOnce(page: Page, ids: string[]): Promise<void> {
  for (const id of ids) {
    await expect.poll(() => page.locator(`[data-message-id="${id}"]`).count(), { timeout: 30_000 }).toBe(1);
  }
}

export function connectionPill(page: Page): Locator {
  return page.locator(".pill[data-connection]");
}

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
}

/** The session as the app stores it (IndexedDB "parley", store "session"), or null. */
export function storedSession(page: Page): Promise<StoredSession | null> {
  return page.evaluate(
    () =>
      new Promise<StoredSession | null>((resolve, reject) => {
        const open = indexedDB.open("parley", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("session");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("session").objectStore("session").get("current");
          get.onsuccess = () => {
            open.result.close();
            resolve((get.result as StoredSession | undefined) ?? null);
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );
}
