// Keyboard rules the screens share, kept apart from React so they can be tested on their own.

/** Ctrl+K, or Cmd+K on a Mac: open the quick switcher. */
export function isQuickSwitcherShortcut(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey">): boolean {
  return (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k";
}

/** How the quick switcher's shortcut is written on this platform. */
export function quickSwitcherKeys(userAgent: string): string {
  return /Mac|iPhone|iPad/.test(userAgent) ? "⌘K" : "Ctrl+K";
}

/**
 * Where focus goes in a list of `count` items from `current` for a key: Up and Down move by one and
 * stop at the ends, Home and End jump there. Null for any other key (the browser handles it).
 */
export function rovingIndex(key: string, current: number, count: number): number | null {
  if (count === 0) return null;
  switch (key) {
    case "ArrowDown":
      return Math.min(current + 1, count - 1);
    case "ArrowUp":
      return Math.max(current - 1, 0);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** The next option of a listbox for a key, wrapping around at the ends; null for other keys. */
export function listboxIndex(key: string, current: number, count: number): number | null {
  if (count === 0) return null;
  if (key === "ArrowDown") return (current + 1) % count;
  if (key === "ArrowUp") return (current - 1 + count) % count;
  return null;
}

/**
 * A device whose only pointer is a finger and that cannot hover: a phone or a tablet without a
 * keyboard and trackpad. There Enter in the composer makes a new line and the Send button sends,
 * since an on-screen keyboard's Enter is where people expect the return key.
 */
export const TOUCH_ONLY_QUERY = "(pointer: coarse) and (hover: none)";
