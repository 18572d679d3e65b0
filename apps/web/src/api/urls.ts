/** The API lives on the app's own origin: /trpc over HTTP, and over ws:// or wss:// alike. */
export const TRPC_HTTP_PATH = "/trpc";

export function trpcWebSocketUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${TRPC_HTTP_PATH}`;
}
