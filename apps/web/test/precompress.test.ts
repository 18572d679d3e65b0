// The build step that writes .br and .gz copies beside the built app's text files.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { precompress } from "../scripts/precompress";

let dist: string | undefined;
afterEach(() => {
  if (dist) rmSync(dist, { recursive: true, force: true });
});

describe("precompress", () => {
  it("writes brotli and gzip copies of text files, in subfolders too, that decompress to the file", () => {
    dist = mkdtempSync(join(tmpdir(), "parley-precompress-"));
    mkdirSync(join(dist, "assets"));
    const script = "export const greeting = 'hello, hello, hello';\n".repeat(300);
    const page = "<!doctype html><title>Parley</title>".repeat(20);
    writeFileSync(join(dist, "assets", "index-abc.js"), script);
    writeFileSync(join(dist, "index.html"), page);

    const written = precompress(dist).map((path) => path.slice(dist!.length + 1)).sort();
    expect(written).toEqual(["assets/index-abc.js.br", "assets/index-abc.js.gz", "index.html.br", "index.html.gz"]);
    expect(brotliDecompressSync(readFileSync(join(dist, "assets", "index-abc.js.br"))).toString()).toBe(script);
    expect(gunzipSync(readFileSync(join(dist, "assets", "index-abc.js.gz"))).toString()).toBe(script);
    expect(brotliDecompressSync(readFileSync(join(dist, "index.html.br"))).toString()).toBe(page);
  });

  it("leaves alone images and fonts, and text that compression would not shrink", () => {
    dist = mkdtempSync(join(tmpdir(), "parley-precompress-"));
    writeFileSync(join(dist, "logo.png"), Buffer.alloc(10_000));
    writeFileSync(join(dist, "font.woff2"), Buffer.alloc(10_000));
    // Random bytes as hex-free binary in a .txt: no copy saves enough to be worth a second file.
    writeFileSync(join(dist, "noise.txt"), randomBytes(10_000));
    expect(precompress(dist)).toEqual([]);
    expect(existsSync(join(dist, "logo.png.br"))).toBe(false);
  });
});
