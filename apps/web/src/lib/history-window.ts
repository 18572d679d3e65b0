// A conversation opened at a message (from search) shows a window of its history that may not reach
// the newest message. Live messages then wait below the window: shown after it, they would sit
// after a gap of messages not loaded. They show once paging towards the newest reaches them.
import { compareIds, type Message } from "@parley/client";

/** The newest message id the pages hold, or null when they hold none. */
export function newestLoaded(pages: readonly (readonly Message[])[]): string | null {
  let newest: string | null = null;
  for (const page of pages) {
    const last = page.at(-1);
    if (last && (newest === null || compareIds(last.id, newest) > 0)) newest = last.id;
  }
  return newest;
}

/**
 * The live messages to show with the pages: all of them once the pages reach the newest message,
 * else only those the window already covers (up to its newest message).
 */
export function liveWithinHistory(live: readonly Message[], pages: readonly (readonly Message[])[], reachesNewest: boolean): readonly Message[] {
  if (reachesNewest) return live;
  const ceiling = newestLoaded(pages);
  if (ceiling === null) return [];
  const shown = live.filter((m) => compareIds(m.id, ceiling) <= 0);
  return shown.length === live.length ? live : shown;
}
