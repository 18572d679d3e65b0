import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

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
 * survive a reload. Hashed files under /assets/ never change and may be cached for good.
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
    res.writeHead(200, {
      "Content-Type": contentTypes[extname(file)] ?? "application/octet-stream",
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  };
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
