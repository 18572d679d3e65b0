// The one piece of navigation state, kept in the URL hash so that a reload and the back button work
// and any static host can serve the app.
export type Route = { view: "home" } | { view: "conversation"; conversationId: string };

export function parseRoute(hash: string): Route {
  const match = /^#\/c\/([^/?#]+)$/.exec(hash);
  if (match?.[1]) {
    try {
      return { view: "conversation", conversationId: decodeURIComponent(match[1]) };
    } catch {
      return { view: "home" };
    }
  }
  return { view: "home" };
}

export function routeHash(route: Route): string {
  return route.view === "conversation" ? `#/c/${encodeURIComponent(route.conversationId)}` : "#/";
}
