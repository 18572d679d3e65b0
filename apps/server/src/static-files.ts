import { createReadStream, existsSync, statSync, type Stats } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { acceptedEncodings, type StaticEncoding } from "./accept-encoding.js";

/** Content types by extension, and whether the type is worth compressing (text, not images or fonts that are compressed already). */
const contentTypes: Record<string, { type: string; compressible: boolean }> = {
  ".html": { type: "text/html; charset=utf-8", compressible: true },
  ".js": { type: "text/javascript; charset=utf-8", compressible: true },
  ".css": { type: "text/css; charset=utf-8", compressible: true },
  ".json": { type: "application/json", compressible: true },
  ".svg": { type: "image/svg+xml", compressible: true },
  ".png": { type: "image/png", compressible: false },
  ".ico": { type: "image/x-icon", compressible: false },
  ".webmanifest": { type: "application/manifest+json", compressible: true },
  ".woff2": { type: "font/woff2", compressible: false },
  ".txt": { type: "text/plain; charset=utf-8", compressible: true },
};
const UNKNOWN_TYPE = { type: "application/octet-stream", compressible: false };

/** The file extension the web app's build gives each encoding's copy (apps/web/scripts/precompress.ts). */
const SUFFIX: Record<StaticEncoding, string> = { br: ".br", gzip: ".gz" };

interface Representation {
  path: string;
  size: number;
  encoding: StaticEncoding | null;
}

/**
 * The copy of `file` to send: the build's compressed copy in the encoding the client likes best,
 * when there is one at least as new as the file, else the file itself.
 */
function representation(file: string, stats: Stats, compressible: boolean, acceptEncoding: string | undefined): Representation {
  if (compressible) {
    for (const encoding of acceptedEncodings(acceptEncoding)) {
      const copy = statOrNull(file + SUFFIX[encoding]);
      if (copy?.isFile() && copy.mtimeMs >= stats.mtimeMs) return { path: file + SUFFIX[encoding], size: copy.size, encoding };
    }
  }
  return { path: file, size: stats.size, encoding: null };
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>Parley is running</h1>
<p>The API is at <code>/trpc</code> (HTTP and WebSocket). The web app has not been built:
run <code>pnpm build</code> (or <code>pnpm start</code>, which builds it) to serve it here.</p>
</body></html>`;

/**
 * Serves the built web app. Paths that are not files get index.html, so the client's own routes
 * survive a reload. Hashed files under /assets/ never change and may be cached for good. Text
 * files go out brotli- or gzip-compressed when the client accepts it, from the copies the build
 * wrote beside them (compressed once, at the highest levels, instead of on every request).
 */
export function createStaticHandler(root: string | null): (req: IncomingMessage, res: ServerResponse) => void {
  const hasApp = root !== null && existsSync(join(root, "index.html"));
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (!hasApp || root === null) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(req.method === "HEAD" ? undefined : PLACEHOLDER);
      return;
    }
    const pathname = decodeURIComponentSafe(new URL(req.url ?? "/", "http://local").pathname);
    // Source maps would publish the app's source; production builds have none, and a stray one is not served.
    if (pathname?.toLowerCase().endsWith(".map")) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end(req.method === "HEAD" ? undefined : "Not found");
      return;
    }
    const candidate = pathname === null ? null : normalize(join(root, pathname));
    const insideRoot = candidate !== null && (candidate === root || candidate.startsWith(root + sep));
    const isFile = insideRoot && existsSync(candidate) && statSync(candidate).isFile();
    const file = isFile && candidate ? candidate : join(root, "index.html");
    const immutable = isFile && pathname?.startsWith("/assets/");
    const { type, compressible } = contentTypes[extname(file)] ?? UNKNOWN_TYPE;
    const sent = representation(file, statSync(file), compressible, req.headers["accept-encoding"]);
    res.writeHead(200, {
      "Content-Type": type,
      "Content-Length": sent.size,
      ...(sent.encoding ? { "Content-Encoding": sent.encoding } : {}),
      // Caches must keep the compressed and plain answers apart.
      ...(compressible ? { Vary: "Accept-Encoding" } : {}),
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(sent.path).pipe(res);
  };
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
