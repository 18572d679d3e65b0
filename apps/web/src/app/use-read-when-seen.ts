// Marks the open conversation read up to the newest message the reader can actually see: a row
// at least half in view of the message list, in a tab that is visible and has focus. The list is
// virtualised, so the rows are watched as they are rendered (an IntersectionObserver on each), not
// looked up. A tab in the background marks nothing; it catches up when focus or visibility returns.
// The store asks the server only when the id is ahead of the pointer, so this may call it freely.
import { useCallback, useEffect, useRef, type RefObject } from "react";
import { compareIds } from "@parley/client";
import { useChat, useRuntime } from "./context";

/** How much of a row must be in view to count as seen (or half the view, for a row taller than it). */
const SEEN_RATIO = 0.5;
const THRESHOLDS = [0, 0.25, 0.5, 0.75, 1];

function isSeen(entry: IntersectionObserverEntry): boolean {
  if (!entry.isIntersecting) return false;
  const view = entry.rootBounds?.height ?? Infinity;
  return entry.intersectionRatio >= SEEN_RATIO || entry.intersectionRect.height >= view * SEEN_RATIO;
}

/** The stored message a rendered row shows (a row of an unsent message has no id yet). */
function messageIdOf(row: Element): string | null {
  return row.querySelector("[data-message-id]")?.getAttribute("data-message-id") ?? null;
}

function readerIsHere(): boolean {
  return document.visibilityState === "visible" && document.hasFocus();
}

/**
 * Returns a ref for each rendered row of `conversationId`'s list, whose scrolling element is
 * `scroller`; the ref's cleanup runs `onRowGone` (the virtualizer's own bookkeeping).
 */
export function useReadWhenSeen(conversationId: string, scroller: RefObject<HTMLElement | null>, onRowGone: () => void) {
  const { chat } = useRuntime();
  const seen = useRef(new Map<Element, string>());
  const rows = useRef(new Set<Element>());
  const observer = useRef<IntersectionObserver | null>(null);

  const markSeen = useCallback(() => {
    if (!readerIsHere()) return;
    let newest: string | null = null;
    for (const id of seen.current.values()) if (newest === null || compareIds(id, newest) > 0) newest = id;
    // A failed call leaves the badge as it is; the next row seen, or the next focus, tries again.
    if (newest !== null) chat.markRead(conversationId, newest).catch(() => undefined);
  }, [chat, conversationId]);

  useEffect(() => {
    const root = scroller.current;
    if (!root) return;
    const watch = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const id = isSeen(entry) ? messageIdOf(entry.target) : null;
          if (id === null) seen.current.delete(entry.target);
          else seen.current.set(entry.target, id);
        }
        markSeen();
      },
      { root, threshold: THRESHOLDS },
    );
    for (const row of rows.current) watch.observe(row);
    observer.current = watch;
    return () => {
      watch.disconnect();
      observer.current = null;
      seen.current.clear();
    };
  }, [scroller, markSeen]);

  // Focus or visibility back: what is in view now is seen.
  useEffect(() => {
    const onVisibility = () => markSeen();
    window.addEventListener("focus", markSeen);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.removeEventListener("focus", markSeen);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [markSeen]);

  // The store may learn of the conversation (or its pointer) after the rows were seen: the store
  // only asks the server about a conversation it knows, so try again then.
  const known = useChat((s) => s.conversations.get(conversationId));
  useEffect(() => {
    if (known) markSeen();
  }, [known, markSeen]);

  return useCallback(
    (row: HTMLElement) => {
      rows.current.add(row);
      observer.current?.observe(row);
      return () => {
        rows.current.delete(row);
        seen.current.delete(row);
        observer.current?.unobserve(row);
        onRowGone();
      };
    },
    [onRowGone],
  );
}
