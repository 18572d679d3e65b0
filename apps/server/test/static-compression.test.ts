// The built web app's text files go out compressed - brotli or gzip, as the client accepts - from
// the copies the web build writes beside them (apps/web/scripts/precompress.ts); here the test
// writes those copies itself. Real HTTP requests, with and without Accept-Encoding, and the bytes
// that arrive decompressed and compared with the file.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { acceptedEncodings } from "../src/accept-encoding.js";
import { suiteServer } from "./harness.js";

describe("acceptedEncodings", () => {
  it("takes what the client names with a q-value above zero, its favourite first, ours (br) on a tie", () => {
    expect(acceptedEncodings(undefined)).toEqual([]);
    expect(acceptedEncodings("")).toEqual([]);
    expect(acceptedEncodings("identity")).toEqual([]);
    expect(acceptedEncodings("gzip, deflate, br, zstd")).toEqual(["br", "gzip"]);
    expect(acceptedEncodings("gzip")).toEqual(["gzip"]);
    expect(acceptedEncodings("x-gzip")).toEqual(["gzip"]);
    expect(acceptedEncodings("br;q=0.5, gzip;q=0.8")).toEqual(["gzip", "br"]);
    expect(acceptedEncodings("BR ; Q=1, gzip;q=0")).toEqual(["br"]);
    expect(acceptedEncodings("*")).toEqual(["br", "gzip"]);
    expect(acceptedEncodings("*;q=0.1, gzip")).toEqual(["gzip", "br"]);
    expect(acceptedEncodings("br;q=0, *")).toEqual(["gzip"]);
    expect(acceptedEncodings("br;q=nonsense, gzip")).toEqual(["gzip"]);
  });
});

/** A built app: text files with their compressed copies (as the web build writes them), and a few without. */
function builtApp() {
  const dist = mkdtempSync(join(tmpdir(), "parley-web-compressed-"));
  mkdirSync(join(dist, "assets"));
  const files = {
    html: "<!doctype html><title>Parley app</title><script type=module src=/assets/app-abc123.js></script>".repeat(4),
    script: Array.from({ length: 2_000 }, (_, i) => `export const value${i} = "the same text, again and again (${i % 10})";`).join("\n"),
    style: "body { color: black; }\n".repeat(500),
    stale: "console.log('rebuilt');\n".repeat(200),
  };
  const write = (path: string, data: string | Buffer, copies: boolean) => {
    writeFileSync(join(dist, path), data);
    if (!copies) return;
    writeFileSync(join(dist, `${path}.br`), brotliCompressSync(data));
    writeFileSync(join(dist, `${path}.gz`), gzipSync(data));
  };
  write("index.html", files.html, true);
  write("assets/app-abc123.js", files.script, true);
  write("assets/plain-abc123.css", files.style, false);
  // A picture is compressed already: even a stray copy beside it is not sent.
  write("assets/logo-abc123.png", randomBytes(4_096), true);
  // A file changed after its copies were made: the copies are out of date.
  write("assets/stale-abc123.js", "console.log('old');", true);
  const past = new Date(Date.now() - 60_000);
  for (const suffix of [".br", ".gz"]) utimesSync(join(dist, `assets/stale-abc123.js${suffix}`), past, past);
  writeFileSync(join(dist, "assets/stale-abc123.js"), files.stale);
  return { dist, files };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A plain HTTP request that decompresses nothing, sending exactly the Accept-Encoding given. */
function get(url: string, acceptEncoding?: string, method = "GET"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: acceptEncoding === undefined ? {} : { "Accept-Encoding": acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("static files, compressed", () => {
  const { dist, files } = builtApp();
  const server = suiteServer("sqlite", { webDistDir: dist });
  const script = () => `${server().url}/assets/app-abc123.js`;
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it("sends the file as it is to a client that accepts no compression, with its length and Vary", async () => {
    const response = await get(script());
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.headers.vary).toBe("Accept-Encoding");
    expect(response.headers["content-length"]).toBe(String(Buffer.byteLength(files.script)));
    expect(response.body.toString()).toBe(files.script);
    expect(response.headers["content-type"]).toContain("javascript");
    expect(response.headers["cache-control"]).toContain("immutable");
  });

  it("sends brotli to a client that accepts it, which decompresses to the file", async () => {
    const response = await get(script(), "gzip, deflate, br");
    expect(response.headers["content-encoding"]).toBe("br");
    expect(response.headers.vary).toBe("Accept-Encoding");
    expect(response.headers["content-length"]).toBe(String(response.body.length));
    expect(response.body.length).toBeLessThan(Buffer.byteLength(files.script) / 4);
    expect(brotliDecompressSync(response.body).toString()).toBe(files.script);
    expect(response.headers["content-type"]).toContain("javascript");
  });

  it("sends gzip to a client that accepts only gzip, or prefers it", async () => {
    for (const accept of ["gzip", "br;q=0.5, gzip", "br;q=0, *"]) {
      const response = await get(script(), accept);
      expect(response.headers["content-encoding"], accept).toBe("gzip");
      expect(response.headers["content-length"]).toBe(String(response.body.length));
      expect(gunzipSync(response.body).toString()).toBe(files.script);
    }
  });

  it("compresses index.html, also where it stands in for one of the app's own routes", async () => {
    for (const path of ["/", "/conversations/123"]) {
      const response = await get(`${server().url}${path}`, "br");
      expect(response.headers["content-encoding"]).toBe("br");
      expect(response.headers["content-type"]).toContain("text/html");
      expect(response.headers["cache-control"]).toBe("no-cache");
      expect(brotliDecompressSync(response.body).toString()).toBe(files.html);
    }
  });

  it("answers HEAD with the headers of the GET, and no body", async () => {
    const head = await get(script(), "br", "HEAD");
    const body = await get(script(), "br");
    expect(head.headers["content-encoding"]).toBe("br");
    expect(head.headers["content-length"]).toBe(body.headers["content-length"]);
    expect(head.body.length).toBe(0);
  });

  it("never compresses what is compressed already, even with a copy beside it", async () => {
    const response = await get(`${server().url}/assets/logo-abc123.png`, "br, gzip");
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.headers.vary).toBeUndefined();
    expect(response.body.equals(readFileSync(join(dist, "assets/logo-abc123.png")))).toBe(true);
    expect(response.headers["content-length"]).toBe("4096");
  });

  it("sends a text file without copies as it is, and never a copy older than its file", async () => {
    const plain = await get(`${server().url}/assets/plain-abc123.css`, "br, gzip");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers.vary).toBe("Accept-Encoding");
    expect(plain.body.toString()).toBe(files.style);
    const stale = await get(`${server().url}/assets/stale-abc123.js`, "br, gzip");
    expect(stale.headers["content-encoding"]).toBeUndefined();
    expect(stale.body.toString()).toBe(files.stale);
  });
});
