// Files in the web app (issue 14): attaching (the button, paste, drag and drop) with each upload's
// progress and a way to cancel it; a picture sent by one person appearing live as a preview to the
// other and opening larger; other files as cards whose link downloads them; and the message found
// by its words with Ctrl+K.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { BrowserContext, CDPSession, Page, Browser } from "playwright-core";
import { apiUser, type ApiUser } from "./support/api";
import { PASSWORD, composer, logIn, openConversation } from "./support/app";
import { BROWSER_SKIP_NOTE, BROWSER_SKIP_REASON, launchBrowser, openPerson, screenshot } from "./support/browser";
import { startTestServer, type TestServer } from "./support/server";

let server: TestServer;
let browser: Browser;
let ann: ApiUser;
let ben: ApiUser;
let annTab: { context: BrowserContext; page: Page };
let benTab: { context: BrowserContext; page: Page };

/** Bytes of an upload that takes a few seconds at the throttled speed, so its progress shows. */
const LARGE = 3 * 1024 * 1024;

function chips(page: Page) {
  return page.getByRole("list", { name: "Files to send" }).getByRole("listitem");
}

/** Slows this page's uploads to about 512 KB/s (Chromium's network emulation), or back to full speed. */
async function throttleUploads(cdp: CDPSession, on: boolean): Promise<void> {
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: on ? 20 : 0,
    downloadThroughput: -1,
    uploadThroughput: on ? 512 * 1024 : -1,
  });
}

/** Pastes pictures drawn in the page (a canvas, as a screenshot tool would put them on the clipboard) into the composer. */
async function pastePictures(page: Page, pictures: { name: string; width: number; height: number; colour: string }[]): Promise<void> {
  await composer(page).evaluate(async (textarea, list) => {
    const data = new DataTransfer();
    for (const { name, width, height, colour } of list) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d") as CanvasRenderingContext2D;
      const gradient = context.createLinearGradient(0, 0, width, height);
      gradient.addColorStop(0, colour);
      gradient.addColorStop(1, "#f7c948");
      context.fillStyle = gradient;
      context.fillRect(0, 0, width, height);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b as Blob), "image/png"));
      data.items.add(new File([blob], name, { type: "image/png" }));
    }
    textarea.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, pictures);
}

function messageWith(page: Page, text: string) {
  return page.locator(".message-list .msg").filter({ hasText: text });
}

describe.skipIf(BROWSER_SKIP_REASON !== undefined)(`files${BROWSER_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    ann = await apiUser(server.url, "ann", PASSWORD, "Ann Archer");
    ben = await apiUser(server.url, "ben", PASSWORD, "Ben Baker");
    await ann.api.conversation.create.mutate({ memberIds: [ben.id], title: "Trip photos" });
    annTab = await openPerson(browser, server.url);
    await logIn(annTab.page, "ann");
    benTab = await openPerson(browser, server.url);
    await logIn(benTab.page, "ben");
    await openConversation(annTab.page, "Trip photos");
    await openConversation(benTab.page, "Trip photos");
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it("uploads files chosen with the attach button, each with a progress bar that moves; Send waits for them", async () => {
    const { page, context } = annTab;
    const cdp = await context.newCDPSession(page);
    await throttleUploads(cdp, true);
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Attach files" }).click();
    await (await chooser).setFiles([
      { name: "itinerary.pdf", mimeType: "application/pdf", buffer: Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(LARGE, 0x20)]) },
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Bring the blue tent.\n") },
    ]);
    const pdf = chips(page).filter({ hasText: "itinerary.pdf" });
    await pdf.waitFor();
    // The bar shows and moves: seen part way, not only empty or full.
    const bar = pdf.getByRole("progressbar", { name: "Uploading itinerary.pdf" });
    await bar.waitFor();
    const seen = new Set<number>();
    await expect
      .poll(async () => {
        const value = await bar.evaluate((el) => (el as HTMLProgressElement).value).catch(() => 100);
        seen.add(value);
        return [...seen].some((v) => v > 0 && v < 100);
      }, { timeout: 30_000, interval: 50 })
      .toBe(true);
    await screenshot(page, "files-composer-uploading");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "files-composer-uploading-mobile");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "files-composer-uploading-mobile-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Enter while uploading: the message waits for the files, then goes with them.
    await composer(page).fill("Plans for the trip");
    await composer(page).press("Enter");
    await page.getByRole("status").filter({ hasText: "Sends when the uploads finish." }).waitFor();
    await throttleUploads(cdp, false);
    const sent = page.locator('.message-list .msg[data-status="sent"]').filter({ hasText: "Plans for the trip" });
    await sent.waitFor({ timeout: 30_000 });
    await expect.poll(() => sent.locator(".attachment-file").count()).toBe(2);
    expect(await chips(page).count()).toBe(0);
    expect(await composer(page).inputValue()).toBe("");
  });

  it("cancels an upload under way and sends the message without it", async () => {
    const { page, context } = annTab;
    const cdp = await context.newCDPSession(page);
    await throttleUploads(cdp, true);
    await page.locator(".composer input[type=file]").setInputFiles([
      { name: "huge-video.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(LARGE, 7) },
      { name: "packing-list.txt", mimeType: "text/plain", buffer: Buffer.from("socks\nboots\n") },
    ]);
    const video = chips(page).filter({ hasText: "huge-video.bin" });
    await video.getByRole("progressbar").waitFor();
    await video.getByRole("button", { name: "Cancel upload of huge-video.bin" }).click();
    await expect.poll(() => video.count()).toBe(0);
    await throttleUploads(cdp, false);
    await expect.poll(() => chips(page).filter({ hasText: "packing-list.txt" }).getAttribute("data-upload-status")).toBe("done");
    // Text is optional beside files.
    await composer(page).press("Enter");
    const card = page.locator(".message-list .attachment-file").filter({ hasText: "packing-list.txt" });
    await card.waitFor();
    expect(await page.locator(".message-list .attachment-file").filter({ hasText: "huge-video.bin" }).count()).toBe(0);
  });

  it("says plainly which file is over the 25 MB limit, and keeps it off the message", async () => {
    const { page } = annTab;
    // From disk, by path: handed as a buffer, 25 MB crossed to the browser base64-encoded, which took
    // over 15 s on a loaded machine once.
    const dir = mkdtempSync(join(tmpdir(), "parley-e2e-files-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const footage = join(dir, "raw-footage.mov");
    writeFileSync(footage, Buffer.alloc(25 * 1024 * 1024 + 1, 1));
    await page.locator(".composer input[type=file]").setInputFiles(footage);
    const chip = chips(page).filter({ hasText: "raw-footage.mov" });
    await expect.poll(() => chip.getAttribute("data-upload-status"), { timeout: 30_000 }).toBe("failed");
    expect(await chip.getByRole("alert").textContent()).toBe("raw-footage.mov is larger than the 25 MB limit.");
    await chip.getByRole("button", { name: "Remove raw-footage.mov" }).click();
    await expect.poll(() => chip.count()).toBe(0);
  });

  it("shows a pasted picture live to the other person as a preview of its size, which opens larger; arrows go between a message's pictures", async () => {
    const { page } = annTab;
    await pastePictures(page, [
      { name: "sunset.png", width: 640, height: 480, colour: "#d9480f" },
      { name: "lake.png", width: 300, height: 600, colour: "#1971c2" },
    ]);
    await expect.poll(() => chips(page).evaluateAll((items) => items.map((i) => i.getAttribute("data-upload-status")))).toEqual(["done", "done"]);
    await composer(page).fill("Sunset over the zebrafjord");
    await composer(page).press("Enter");

    const reader = benTab.page;
    const message = messageWith(reader, "Sunset over the zebrafjord");
    const previews = message.locator(".attachment-picture");
    await expect.poll(() => previews.count(), { timeout: 20_000 }).toBe(2);
    // Each preview has its picture's proportions before and after loading (nothing jumps), and loads.
    const sunset = previews.nth(0);
    const box = await sunset.boundingBox();
    expect(Math.abs((box?.width ?? 0) / (box?.height ?? 1) - 640 / 480)).toBeLessThan(0.05);
    await expect.poll(() => sunset.locator("img").evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)).toBe(true);
    expect(await sunset.locator("img").getAttribute("src")).toMatch(/\/files\/[^/]+\/thumbnail\?/);
    await expect.poll(() => sunset.boundingBox().then((b) => Math.round(b?.width ?? 0))).toBe(Math.round(box?.width ?? -1));
    await screenshot(reader, "files-timeline");

    await sunset.click();
    const viewer = reader.getByRole("dialog", { name: "Picture sunset.png" });
    await viewer.waitFor();
    await expect.poll(() => viewer.locator(".viewer__image").evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(640);
    expect(await viewer.getByRole("link", { name: "Download" }).getAttribute("download")).toBe("sunset.png");
    await screenshot(reader, "files-viewer");
    await reader.keyboard.press("ArrowRight");
    await reader.getByRole("dialog", { name: "Picture lake.png" }).waitFor();
    await reader.emulateMedia({ colorScheme: "dark" });
    await screenshot(reader, "files-viewer-dark");
    await reader.setViewportSize({ width: 390, height: 844 });
    await screenshot(reader, "files-viewer-mobile-dark");
    await reader.setViewportSize({ width: 1280, height: 800 });
    await reader.keyboard.press("Escape");
    await reader.getByRole("dialog", { name: /^Picture/ }).waitFor({ state: "hidden" });
    // Focus is back on the preview that opened it.
    expect(await sunset.evaluate((el) => el === document.activeElement)).toBe(true);
    await screenshot(reader, "files-timeline-dark");
    await reader.emulateMedia({ colorScheme: "light" });

    // The close button closes it too.
    await previews.nth(1).click();
    await reader.getByRole("dialog", { name: "Picture lake.png" }).getByRole("button", { name: "Close" }).click();
    await reader.getByRole("dialog", { name: /^Picture/ }).waitFor({ state: "hidden" });
  });

  it("shows a dropped file as a card whose link downloads it, drawing a drop target while dragging", async () => {
    const { page } = annTab;
    const content = "Day 1: ferry at 9:40\nDay 2: glacier walk\n";
    await page.locator("section.conversation").evaluate((pane, text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], "schedule.txt", { type: "text/plain" }));
      pane.dispatchEvent(new DragEvent("dragenter", { dataTransfer: data, bubbles: true, cancelable: true }));
      pane.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, content);
    await page.locator(".drop-target", { hasText: "Drop files to send to Trip photos" }).waitFor();
    await screenshot(page, "files-drop-target");
    await page.locator("section.conversation").evaluate((pane, text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], "schedule.txt", { type: "text/plain" }));
      pane.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, content);
    await page.locator(".drop-target").waitFor({ state: "hidden" });
    await expect.poll(() => chips(page).filter({ hasText: "schedule.txt" }).getAttribute("data-upload-status")).toBe("done");
    await composer(page).fill("The schedule");
    await composer(page).press("Enter");

    const card = messageWith(benTab.page, "The schedule").locator(".attachment-file");
    await card.waitFor();
    expect(await card.locator(".attachment-file__name").textContent()).toBe("schedule.txt");
    expect(await card.locator(".attachment-file__meta").textContent()).toBe(`TXT file · ${content.length} bytes`);
    const link = card.getByRole("link", { name: "Download schedule.txt" });
    const href = await link.getAttribute("href");
    const answer = await benTab.page.request.get(new URL(href ?? "", server.url).toString());
    expect(answer.status()).toBe(200);
    expect(await answer.text()).toBe(content);
    await screenshot(benTab.page, "files-timeline-card");
    await benTab.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(benTab.page, "files-timeline-mobile");
    await benTab.page.emulateMedia({ colorScheme: "dark" });
    await screenshot(benTab.page, "files-timeline-mobile-dark");
    await benTab.page.emulateMedia({ colorScheme: "light" });
    await benTab.page.setViewportSize({ width: 1280, height: 800 });
  });

  it("replies in a thread with a dropped picture; Escape closes the thread's picture viewer, not the thread", async () => {
    const { page } = benTab;
    await page.locator(".message-list .msg").filter({ hasText: "The schedule" }).getByRole("button", { name: "Reply in thread" }).click();
    const thread = page.getByRole("complementary", { name: "Thread" });
    await thread.waitFor();
    await thread.evaluate(async (panel) => {
      const canvas = document.createElement("canvas");
      canvas.width = 200;
      canvas.height = 100;
      (canvas.getContext("2d") as CanvasRenderingContext2D).fillRect(0, 0, 200, 100);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b as Blob), "image/png"));
      const data = new DataTransfer();
      data.items.add(new File([blob], "map.png", { type: "image/png" }));
      panel.dispatchEvent(new DragEvent("dragenter", { dataTransfer: data, bubbles: true, cancelable: true }));
      panel.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => chips(page).filter({ hasText: "map.png" }).getAttribute("data-upload-status")).toBe("done");
    // Only the thread's composer has it.
    expect(await page.locator(".conversation .uploads").count()).toBe(0);
    await page.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    const preview = thread.locator(".thread__replies .attachment-picture");
    await preview.waitFor();
    await preview.click();
    await page.getByRole("dialog", { name: "Picture map.png" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog", { name: "Picture map.png" }).waitFor({ state: "hidden" });
    expect(await thread.isVisible()).toBe(true);
    await thread.getByRole("button", { name: "Close thread" }).click();
  });

  it("finds the message with the picture by its words with Ctrl+K, and opens it with the picture", async () => {
    const { page } = benTab;
    await page.keyboard.press("Control+k");
    const switcher = page.getByRole("dialog", { name: "Search conversations and messages" });
    await switcher.waitFor();
    await page.keyboard.type("zebrafjord");
    const found = switcher.getByRole("option").filter({ hasText: "zebrafjord" });
    await found.waitFor();
    await found.click();
    await switcher.waitFor({ state: "hidden" });
    const message = messageWith(page, "Sunset over the zebrafjord");
    await expect.poll(() => message.locator(".attachment-picture img").count()).toBe(2);
    // Focus goes to the found message (a frame after it is laid out), for a keyboard user to go on from.
    await expect.poll(() => page.evaluate(() => (document.activeElement?.classList.contains("message-row") && document.activeElement.textContent?.includes("zebrafjord")) ?? false)).toBe(true);
  });

  it("lists the conversation's messages with files from its header's Files button (has:file alone)", async () => {
    const { page } = benTab;
    await composer(page).fill("Just words here");
    await composer(page).press("Enter");
    await messageWith(page, "Just words here").waitFor();
    await page.getByRole("button", { name: "Files in this conversation" }).click();
    const switcher = page.getByRole("dialog", { name: "Search conversations and messages" });
    await switcher.waitFor();
    expect(await switcher.getByRole("combobox").inputValue()).toMatch(/^has:file in:\S+$/);
    // Messages with files only: the picture message and the cards' message are there (one page of
    // results, shown at once), the message of words alone is not.
    await switcher.getByRole("option").filter({ hasText: "zebrafjord" }).waitFor();
    expect(await switcher.getByRole("option").filter({ hasText: "Plans for the trip" }).count()).toBe(1);
    expect(await switcher.getByRole("option").filter({ hasText: "Just words here" }).count()).toBe(0);
    // Each result names its files, so a message of files alone is not a blank line.
    expect(await switcher.getByRole("option").filter({ hasText: "Plans for the trip" }).locator(".found__files").textContent()).toContain("itinerary.pdf");
    await screenshot(page, "files-listed");
    await page.keyboard.press("Escape");
    await switcher.waitFor({ state: "hidden" });
  });
});
