// The one piece of navigation state, kept in the URL hash so that a reload and the back button work
// and any static host can serve the app. An open thread is part of it (#/c/<conversation>/t/<root>),
// so a reload keeps it open, Back closes it and a link to it opens it.
export type Route = { view: "home" } | { view: "admin" } | { view: "conversation"; conversationId: string; threadId?: string };

export function parseRoute(hash: string): Route {
  if (hash === "#/admin") return { view: "admin" };
  const match = /^#\/c\/([^/?#]+)(?:\/t\/([^/?#]+))?$/.exec(hash);
  if (match?.[1]) {
    try {
      const conversationId = decodeURIComponent(match[1]);
      return match[2] ? { view: "conversation", conversationId, threadId: decodeURIComponent(match[2]) } : { view: "conversation", conversationId };
    } catch {
      return { view: "home" };
    }
  }
  return { view: "home" };
}

export function routeHash(route: Route): string {
  if (route.view === "home") return "#/";
  if (route.view === "admin") return "#/admin";
  const conversation = `#/c/${encodeURIComponent(route.conversationId)}`;
  return route.threadId ? `${conversation}/t/${encodeURIComponent(route.threadId)}` : conversation;
}
