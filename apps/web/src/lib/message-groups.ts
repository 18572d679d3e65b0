// How a timeline is laid out: a heading where the day changes, and the sender's name and time only
// at the start of a run of messages from the same person close together in time.
import { dayKey, type FormatOptions } from "./format";
import type { TimelineItem } from "@parley/client";

/** Messages from one sender closer together than this share a header. */
export const GROUP_GAP_MS = 5 * 60_000;

export interface LaidOutItem {
  item: TimelineItem;
  /** The first message of a new day: show a day heading before it. */
  startsDay: boolean;
  /** The first of a run from one sender: show the name and time. */
  startsGroup: boolean;
  /** The last of a run: the bubble gets its tail. */
  endsGroup: boolean;
}

function continues(prev: TimelineItem, next: TimelineItem, opts: FormatOptions): boolean {
  return (
    prev.senderId === next.senderId &&
    dayKey(prev.createdAt, opts) === dayKey(next.createdAt, opts) &&
    Date.parse(next.createdAt) - Date.parse(prev.createdAt) < GROUP_GAP_MS
  );
}

export function layOut(items: readonly TimelineItem[], opts: FormatOptions = {}): LaidOutItem[] {
  return items.map((item, i) => {
    const prev = items[i - 1];
    const next = items[i + 1];
    return {
      item,
      startsDay: !prev || dayKey(prev.createdAt, opts) !== dayKey(item.createdAt, opts),
      startsGroup: !prev || !continues(prev, item, opts),
      endsGroup: !next || !continues(item, next, opts),
    };
  });
}
