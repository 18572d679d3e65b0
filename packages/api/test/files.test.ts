// The pieces of files that need no server: names, Content-Disposition, signed URLs and the local
// store's all-or-nothing writes (apps/server/test/files.test.ts covers the whole path over HTTP).
import { createHmac } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { contentDisposition, MAX_FILE_NAME_LENGTH, sanitizeFileName } from "../src/files/file-names.js";
import { LocalFileStore, uploadKeyOf } from "../src/files/file-store.js";
import { FileUrlSigner } from "../src/files/signed-urls.js";
import { processImage } from "../src/files/images.js";
import sharp from "sharp";

describe("file names", () => {
  it.each([
    ["photo.jpg", "photo.jpg"],
    ["/etc/passwd", "passwd"],
    ["C:\\Users\\me\\report.docx", "report.docx"],
    ["../..", "file"],
    ["...hidden", "hidden"],
    ["trailing dots...", "trailing dots"],
    ["tab\tand\nnewline.txt", "tabandnewline.txt"],
    ["zero\u200Bwidth\u2066isolate.txt", "zerowidthisolate.txt"],
    ["cafe\u0301.png", "caf\u00e9.png"],
    ["  spaced   out  .txt", "spaced out .txt"],
    ["", "file"],
  ])("%j becomes %j", (given, expected) => {
    expect(sanitizeFileName(given)).toBe(expected);
  });

  it("shortens a long name in its stem, keeping a short extension and whole characters", () => {
    const name = sanitizeFileName(`${"😀".repeat(200)}.tar`);
    expect([...name]).toHaveLength(MAX_FILE_NAME_LENGTH);
    expect(name.endsWith("….tar")).toBe(true);
    expect(sanitizeFileName(`${"a".repeat(200)}.${"b".repeat(40)}`)).toHaveLength(MAX_FILE_NAME_LENGTH);
  });

  it("puts an ASCII fallback and the exact UTF-8 name in Content-Disposition", () => {
    expect(contentDisposition("attachment", 'naïve "plan" 100%.pdf')).toBe(`attachment; filename="na_ve _plan_ 100_.pdf"; filename*=UTF-8''na%C3%AFve%20%22plan%22%20100%25.pdf`);
    expect(contentDisposition("inline", "it's (1).png")).toBe(`inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`);
  });
});

describe("signed file URLs", () => {
  const secret = "s".repeat(40);
  const signer = new FileUrlSigner(secret);
  const at = (iso: string) => new Date(iso);

  it("is valid for 15 to 25 minutes, the same URL within a ten-minute window", () => {
    const first = signer.sign("att1", "original", at("2030-01-01T10:00:01Z"));
    const later = signer.sign("att1", "original", at("2030-01-01T10:09:59Z"));
    const next = signer.sign("att1", "original", at("2030-01-01T10:10:01Z"));
    expect(first).toEqual(later);
    expect(first.expiresAt.toISOString()).toBe("2030-01-01T10:25:00.000Z");
    expect(next.expiresAt.toISOString()).toBe("2030-01-01T10:35:00.000Z");
    expect(first.url).toMatch(/^\/files\/att1\/original\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
  });

  it("verifies its own signature until the expiry, and nothing else", () => {
    const now = at("2030-01-01T10:00:00Z");
    const url = new URL(signer.sign("att1", "original", now).url, "http://x");
    const exp = url.searchParams.get("exp");
    const sig = url.searchParams.get("sig");
    expect(signer.verify("att1", "original", exp, sig, now)).toEqual({ status: "ok", secondsLeft: 25 * 60 });
    expect(signer.verify("att1", "original", exp, sig, at("2030-01-01T10:24:59Z")).status).toBe("ok");
    expect(signer.verify("att1", "original", exp, sig, at("2030-01-01T10:25:00Z")).status).toBe("expired");
    expect(signer.verify("att2", "original", exp, sig, now).status).toBe("forged");
    expect(signer.verify("att1", "thumbnail", exp, sig, now).status).toBe("forged");
    expect(signer.verify("att1", "original", String(Number(exp) + 600), sig, now).status).toBe("forged");
    expect(signer.verify("att1", "original", exp, null, now).status).toBe("forged");
    expect(signer.verify("att1", "original", "1e9", sig, now).status).toBe("forged");
    expect(new FileUrlSigner("t".repeat(40)).verify("att1", "original", exp, sig, now).status).toBe("forged");
  });

  it("never signs with the JWT secret itself", () => {
    const now = at("2030-01-01T10:00:00Z");
    const url = new URL(signer.sign("att1", "original", now).url, "http://x");
    const withSecret = createHmac("sha256", secret).update(`att1\noriginal\n${url.searchParams.get("exp")}`).digest("base64url");
    expect(url.searchParams.get("sig")).not.toBe(withSecret);
  });
});

describe("LocalFileStore", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes all or nothing: a failed write leaves no file, not even a partial one", async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-store-"));
    const store = new LocalFileStore(join(dir, "files"));
    await store.put("abc", Readable.from([Buffer.from("whole")]));
    const failing = new Readable({
      read() {
        this.push(Buffer.from("part"));
        this.destroy(new Error("client went away"));
      },
    });
    await expect(store.put("def", failing)).rejects.toThrow("client went away");
    expect(readdirSync(join(dir, "files"))).toEqual(["abc"]);
    const opened = await store.open("abc");
    expect(opened?.size).toBe(5);
    expect(await store.open("def")).toBeNull();
    await expect(store.put("../escape", Readable.from([]))).rejects.toThrow("not a file store key");
    await store.delete("abc");
    await store.delete("abc");
    const listed = [];
    for await (const entry of store.list()) listed.push(entry.key);
    expect(listed).toEqual([]);
  });

  it("names the upload a stored file belongs to", () => {
    expect(["abc", "abc.thumb", "abc.part-12ef"].map(uploadKeyOf)).toEqual(["abc", "abc", "abc"]);
  });
});

describe("pictures", () => {
  const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: "#102030" } }).png().toBuffer();

  it("re-encodes within the pixel limit, with a thumbnail that fits in 400 × 400", async () => {
    const image = await processImage(await png(800, 200), "image/png", 200_000);
    expect(image && [image.width, image.height]).toEqual([800, 200]);
    expect(image && (await sharp(image.thumbnail).metadata())).toMatchObject({ format: "webp", width: 400, height: 100 });
  });

  it("does not decode a picture past the pixel limit (a decompression bomb), nor a broken one", async () => {
    expect(await processImage(await png(800, 200), "image/png", 159_999)).toBeNull();
    const whole = await png(64, 64);
    expect(await processImage(whole.subarray(0, whole.length - 40), "image/png", 1_000_000)).toBeNull();
    expect(await processImage(Buffer.from("\x89PNG\r\n\x1a\n not really"), "image/png", 1_000_000)).toBeNull();
  });
});
