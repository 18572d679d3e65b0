// Parley's service worker: keeps the app's shell (index.html and the files it names) so that a
// reload while the server cannot be reached still opens the app - signed in, with what it had
// (src/app/query-persistence.ts) - instead of the browser's error page. It caches nothing of the
// API: /trpc and /healthz always go to the network. Written by hand, and small on purpose.
//
// The HTML is fetched from the network first (a new release is picked up at once) and kept; the
// hashed files under /assets/ never change, so they come from the cache once there. The server
// sends this file with Cache-Control: no-cache, so a changed worker is installed at the next visit.
/* global self, caches, fetch, URL, Response */

const CACHE = "parley-shell-v1";
const SHELL = "/";

/** The same-origin files a page of the app names: its script, styles and icon. */
function filesNamedBy(html) {
  return [...html.matchAll(/(?:src|href)="(\/(?!\/)[^"]+)"/g)].map((match) => match[1]);
}

/** Keeps `response` (a fresh index.html) and the files it names, and drops files it no longer names. */
async function keepShell(response) {
  const html = await response.clone().text();
  const cache = await caches.open(CACHE);
  const files = filesNamedBy(html);
  await cache.put(SHELL, response);
  await Promise.all(files.map((file) => cache.match(file).then((hit) => hit ?? cache.add(file)).catch(() => undefined)));
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/assets/") && !files.includes(path)) await cache.delete(request);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    fetch(SHELL, { cache: "no-cache" })
      .then((response) => (response.ok ? keepShell(response) : undefined))
      .catch(() => undefined)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

async function page(event) {
  try {
    const response = await fetch(event.request);
    if (response.ok) event.waitUntil(keepShell(response.clone()).catch(() => undefined));
    return response;
  } catch {
    // The server cannot be reached: the app from the cache, which shows what it kept and reconnects.
    return (await caches.match(SHELL)) ?? Response.error();
  }
}

async function asset(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    await caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/trpc") || url.pathname === "/healthz") return;
  if (request.mode === "navigate") event.respondWith(page(event));
  else if (url.pathname.startsWith("/assets/") || url.pathname === "/favicon.svg") event.respondWith(asset(request));
});
