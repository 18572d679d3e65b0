import { useCallback, useSyncExternalStore } from "react";
import { parseRoute, routeHash, type Route } from "../lib/route";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

const getHash = () => window.location.hash;

/** Kept in the history entry that navigate() made: the route it was made from. */
interface EntryState {
  parleyFrom: string;
}

function cameFrom(state: unknown): string | null {
  return typeof state === "object" && state !== null && typeof (state as Partial<EntryState>).parleyFrom === "string" ? (state as EntryState).parleyFrom : null;
}

/**
 * The route, `navigate` (a new history entry, as a link would), and `returnTo` for closing something
 * opened by navigate (a thread): the browser's Back when this entry was made from `route` here, so
 * that Back afterwards does not open it again; otherwise (a reload of a link) this entry becomes `route`.
 */
export function useRoute(): [Route, (route: Route) => void, (route: Route) => void] {
  const hash = useSyncExternalStore(subscribe, getHash);
  const navigate = useCallback((route: Route) => {
    const next = routeHash(route);
    const from = routeHash(parseRoute(window.location.hash));
    if (window.location.hash === next) return;
    window.location.hash = next;
    const state: EntryState = { parleyFrom: from };
    window.history.replaceState(state, "");
  }, []);
  const returnTo = useCallback((route: Route) => {
    const target = routeHash(route);
    if (window.location.hash === target) return;
    if (cameFrom(window.history.state) === target) window.history.back();
    else window.location.replace(target);
  }, []);
  return [parseRoute(hash), navigate, returnTo];
}
