// An admin in a real browser: the first account is the admin, makes signups invite only, invites a
// person who signs up through the link, then deactivates them while their app is open - which
// returns to the login screen at once, saying why, and refuses to log them in again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiUser } from "./support/api";
import { PASSWORD, logIn, messageBubble, openConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let ann: { context: BrowserContext; page: Page };
let bob: { context: BrowserContext; page: Page };

const DEACTIVATED = "Your account has been deactivated. Ask an admin of this server if you need it back.";

async function fillSignup(page: Page, username: string, fullName: string): Promise<void> {
  await page.getByLabel("Full name").fill(fullName);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`admins${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("the first account is told it will be the admin, and finds the admin page", async () => {
    ann = await openPerson(browser, server.url);
    await ann.page.getByRole("button", { name: "Create an account" }).click();
    await ann.page.getByText("your account will be this server's admin").waitFor();
    await fillSignup(ann.page, "ann", "Ann Admin");
    await ann.page.getByRole("button", { name: "Admin" }).click();
    await ann.page.getByRole("heading", { name: "Admin", level: 2 }).waitFor();
    // Server health: this instance's numbers, Ann's own open app among the connections.
    const health = ann.page.locator('[data-panel="server-health"]');
    const connections = health.locator('[data-figure="Connections"] dd');
    await connections.waitFor();
    expect(Number(await connections.textContent())).toBeGreaterThanOrEqual(1);
    await health.locator('[data-figure="Redis"] dd').getByText("not used").waitFor();
    await screenshot(ann.page, "admin-health");
    await ann.page.emulateMedia({ colorScheme: "dark" });
    await screenshot(ann.page, "admin-health-dark");
    await ann.page.emulateMedia({ colorScheme: "light" });
    await ann.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(ann.page, "admin-phone");
    await ann.page.setViewportSize({ width: 1280, height: 800 });
  });

  it("an invited person signs up through the link while signups are invite only; without it they are told to ask an admin", async () => {
    const admin = ann.page;
    await admin.getByRole("radio", { name: /Invite only/ }).check();
    await admin.getByRole("button", { name: "Create invite link" }).click();
    const linkField = admin.getByLabel(/New invite link/);
    await linkField.waitFor();
    const link = await linkField.inputValue();
    expect(link).toMatch(new RegExp(`^${server.url.replace(/[.:/]/g, "\\$&")}/invite/[A-Za-z0-9_-]{43}$`));
    await admin.locator('[data-invite-state="valid"]').getByText("0 of 1 used").waitFor();

    bob = await openPerson(browser, server.url);
    await bob.page.getByRole("button", { name: "Create an account" }).click();
    await bob.page.getByRole("heading", { name: "Invite only" }).waitFor();
    await expect.poll(() => bob.page.getByLabel("Username").count()).toBe(0);
    await screenshot(bob.page, "signup-invite-only");

    await bob.page.goto(new URL(link).pathname);
    await bob.page.getByText("You have been invited to this Parley server.").waitFor();
    await fillSignup(bob.page, "bob", "Bob Invited");
    await bob.page.locator(".sidebar").waitFor();
    // The used link is gone from the address.
    expect(new URL(bob.page.url()).pathname).toBe("/");
    // The admin page asks again by itself while it is open (every ADMIN_REFRESH_MS, 10 s): the
    // signup shows there with no click, in the invite's count, the people and the audit log.
    await admin.locator('[data-invite-state="used_up"]').getByText("1 of 1 used").waitFor({ timeout: 20_000 });
    await admin.getByRole("list", { name: "People" }).locator('[data-username="bob"]').waitFor();
    await admin.getByRole("list", { name: "Audit log entries" }).getByText("@bob signed up with an invite").waitFor();
  });

  it("deactivating someone whose app is open sends it back to the login screen at once, saying why; they cannot log in again", async () => {
    const admin = ann.page;
    // Something of Bob's to keep: a message to Ann.
    const bobApi = await apiUser(server.url, "bob", PASSWORD, "", true);
    const annId = (await bobApi.api.user.search.query({ query: "ann" }))[0]!.id;
    const { id: conversationId } = await bobApi.api.conversation.create.mutate({ memberIds: [annId] });
    await bobApi.api.message.send.mutate({ conversationId, content: "Handing over my notes", clientMessageId: crypto.randomUUID() });
    const people = admin.getByRole("list", { name: "People" });
    await people.locator('[data-username="bob"]').waitFor();
    const row = people.locator('[data-username="bob"]');
    await row.getByRole("button", { name: "Deactivate" }).click();
    await row.getByRole("button", { name: "Deactivate @bob" }).click();
    await row.getByText("Deactivated").waitFor();

    await bob.page.getByRole("heading", { name: "Welcome back" }).waitFor({ timeout: 20_000 });
    await bob.page.getByText(DEACTIVATED).waitFor();
    await screenshot(bob.page, "login-deactivated");
    await logIn(bob.page, "bob");
    await bob.page.getByRole("alert").getByText(DEACTIVATED).waitFor();

    const log = admin.getByRole("list", { name: "Audit log entries" });
    await log.getByText("@ann deactivated @bob").waitFor();
    await log.getByText("@bob signed up with an invite").waitFor();
    await screenshot(admin, "admin-page");

    // Bob's message stays, shown as a deactivated person's.
    await admin.reload();
    await openConversation(admin, "Bob Invited");
    await messageBubble(admin, "Handing over my notes").waitFor();
    await admin.locator(".msg__meta", { hasText: "Bob Invited" }).getByText("deactivated").waitFor();
    await admin.getByRole("button", { name: "Admin" }).click();

    // Reactivated, the same person logs in again.
    await row.getByRole("button", { name: "Reactivate" }).click();
    await expect.poll(() => row.getByText("Deactivated").count()).toBe(0);
    await logIn(bob.page, "bob");
    await bob.page.locator(".sidebar").waitFor();
  });
});
