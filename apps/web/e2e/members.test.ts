// Membership in the browser, live: Olga owns a group and manages it from its members dialog;
// Pavel has the app open and sees what she does as it happens - the group appearing when he is
// added, its new name, losing it while he reads it, and leaving it himself. Quinn and Rita are
// members who use the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, composer, conversationLink, openConversation, signUp, startConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let olga: { context: BrowserContext; page: Page };
let pavel: { context: BrowserContext; page: Page };
let quinn: ApiUser;
let rita: ApiUser;

/** Live changes cross two browsers and a server on a loaded machine: wait for them this long. */
const LIVE = { timeout: 10_000 };

function membersDialog(page: Page): Locator {
  return page.getByRole("dialog", { name: "Members" });
}

async function openMembers(page: Page): Promise<Locator> {
  await page.locator(".conversation__members").click();
  const dialog = membersDialog(page);
  await dialog.waitFor();
  return dialog;
}

function memberRow(dialog: Locator, username: string): Locator {
  return dialog.getByRole("list", { name: "Members" }).locator(`.member[data-username="${username}"]`);
}

async function addByUsername(dialog: Locator, username: string, fullName: string): Promise<void> {
  await dialog.getByLabel("Search people to add").fill(username);
  await dialog.getByRole("button", { name: `Add ${fullName} (@${username})` }).click();
  await memberRow(dialog, username).waitFor();
}

function heading(page: Page): Locator {
  return page.locator(".conversation__heading h2");
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`Members, live in the browser${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    quinn = await apiUser(server.url, "quinn", PASSWORD, "Quinn Hale");
    rita = await apiUser(server.url, "rita", PASSWORD, "Rita Moreno");
    olga = await openPerson(browser, server.url);
    await signUp(olga.page, "olga", "Olga Owner");
    pavel = await openPerson(browser, server.url);
    await signUp(pavel.page, "pavel", "Pavel Member");
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("shows a group someone else created with the reader at once, without a reload", async () => {
    const olgaId = (await quinn.api.user.search.query({ query: "olga" }))[0]!.id;
    await quinn.api.conversation.create.mutate({ title: "Quinn's corner", memberIds: [olgaId, rita.id] });
    await conversationLink(olga.page, "Quinn's corner").waitFor();
  });

  it("lets an owner add someone, who sees the group appear live", async () => {
    await startConversation(olga.page, ["quinn", "rita"], "Launch");
    const dialog = await openMembers(olga.page);
    expect(await memberRow(dialog, "olga").locator(".role-badge").textContent()).toBe("Owner");
    expect(await memberRow(dialog, "quinn").locator(".role-badge").count()).toBe(0);
    await addByUsername(dialog, "pavel", "Pavel Member");
    await conversationLink(pavel.page, "Launch").waitFor();
    expect(await conversationLink(pavel.page, "Launch").locator(".conv__preview").textContent()).toBe("4 members");
    await screenshot(olga.page, "members-dialog");
  });

  it("shows a rename on both screens as it happens", async () => {
    await openConversation(pavel.page, "Launch");
    const dialog = membersDialog(olga.page);
    await dialog.getByLabel("Group name").fill("Launch plan");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => heading(olga.page).textContent(), LIVE).toBe("Launch plan");
    await expect.poll(() => heading(pavel.page).textContent(), LIVE).toBe("Launch plan");
    await conversationLink(pavel.page, "Launch plan").waitFor();
    await conversationLink(olga.page, "Launch plan").waitFor();
  });

  it("shows the server's refusal of a name in the dialog", async () => {
    const dialog = membersDialog(olga.page);
    await dialog.getByLabel("Group name").fill("Launch\u200bplan");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent(), LIVE).toMatch(/invisible/);
    await dialog.getByLabel("Group name").fill("Launch plan");
  });

  it("offers a member no owner's controls, but adding people and leaving", async () => {
    const dialog = await openMembers(pavel.page);
    await memberRow(dialog, "olga").waitFor();
    expect(await dialog.getByLabel("Group name").count()).toBe(0);
    expect(await dialog.getByRole("button", { name: /^Remove/ }).count()).toBe(0);
    expect(await dialog.getByLabel("Search people to add").count()).toBe(1);
    expect(await dialog.getByRole("button", { name: "Leave group…" }).count()).toBe(1);
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });
  });

  it("takes the conversation away from a member removed while reading it: they cannot send to it", async () => {
    expect(await composer(pavel.page).count()).toBe(1);
    const dialog = membersDialog(olga.page);
    await dialog.getByRole("button", { name: "Remove Pavel Member (@pavel)" }).click();
    await memberRow(dialog, "pavel").waitFor({ state: "detached" });

    await pavel.page.getByRole("heading", { name: "You are no longer a member of “Launch plan”" }).waitFor();
    expect(await composer(pavel.page).count()).toBe(0);
    await conversationLink(pavel.page, "Launch plan").waitFor({ state: "detached" });
    await screenshot(pavel.page, "member-removed");
    // Olga's header counts one member fewer.
    await expect.poll(() => olga.page.locator(".conversation__members").textContent(), LIVE).toContain("3");
  });

  it("brings the group back when he is added again, and lets him leave it", async () => {
    const olgaDialog = membersDialog(olga.page);
    await addByUsername(olgaDialog, "pavel", "Pavel Member");
    await conversationLink(pavel.page, "Launch plan").waitFor();
    await openConversation(pavel.page, "Launch plan");

    const dialog = await openMembers(pavel.page);
    await dialog.getByRole("button", { name: "Leave group…" }).click();
    await screenshot(pavel.page, "members-leave-confirm");
    await dialog.getByRole("button", { name: "Leave group", exact: true }).click();

    await pavel.page.locator(".empty-pane__notice", { hasText: "You left “Launch plan”." }).waitFor();
    await conversationLink(pavel.page, "Launch plan").waitFor({ state: "detached" });
    // Olga's open dialog follows: Pavel is gone from it.
    await memberRow(olgaDialog, "pavel").waitFor({ state: "detached" });
  });

  it("opens and closes from the keyboard, giving focus back to the members button", async () => {
    const button = olga.page.locator(".conversation__members");
    await button.focus();
    await olga.page.keyboard.press("Enter");
    const dialog = membersDialog(olga.page);
    await dialog.waitFor();
    await olga.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await expect.poll(() => button.evaluate((el) => el === document.activeElement), LIVE).toBe(true);
    await openMembers(olga.page);
  });

  it("shows the two people of a direct conversation, with nothing to change", async () => {
    await membersDialog(olga.page).getByRole("button", { name: "Close" }).click();
    await startConversation(olga.page, ["pavel"]);
    await olga.page.locator(".conversation__members").click();
    const dialog = olga.page.getByRole("dialog", { name: "People" });
    await dialog.locator('.member[data-username="pavel"]').waitFor();
    expect(await dialog.locator(".member").count()).toBe(2);
    expect(await dialog.getByRole("button", { name: /^(Remove|Add|Leave)/ }).count()).toBe(0);
    expect(await dialog.getByLabel("Search people to add").count()).toBe(0);
  });
});
