// Where a Parley server takes its API: /trpc on its origin, over HTTP and (ws:// or wss://) WebSocket alike.
export const TRPC_PATH = "/trpc";

/** The HTTP endpoint, from the server's address ("https://chat.example.com", "http://127.0.0.1:3000"). */
export function trpcHttpUrl(baseUrl: string): string {
  return new URL(TRPC_PATH, baseUrl).toString();
}

/** The WebSocket endpoint: wss:// for a server on https, ws:// otherwise. */
export function trpcWebSocketUrl(baseUrl: string): string {
  const url = new URL(TRPC_PATH, baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
