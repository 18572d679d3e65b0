// How a timeline is laid out: a heading where the day changes, and the sender's name and time only
// at the start of a run of messages from the same person close together in time.
import { dayKey, type FormatOptions } from "./format";
import { isPicture, previewSize } from "./attachments";
import { compareIds, type Attachment, type TimelineItem } from "@parley/client";

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

/** A rough line of a bubble, in characters, for estimates; the real height is measured once shown. */
const ESTIMATED_CHARS_PER_LINE = 60;

/**
 * The height a row will probably take before it is measured (the virtualized list needs a guess
 * for rows never shown): a day heading, a sender's header, and a line per newline or ~60
 * characters. A good guess keeps the scroll bar from jumping as rows are measured.
 */
/** The previews' and file cards' height, as laid out (previews side by side when they fit). */
function attachmentsHeight(attachments: readonly Attachment[]): number {
  let height = 0;
  for (const a of attachments) height += isPicture(a) ? previewSize(a.width, a.height).height + 6 : 62;
  return height;
}

export function estimateRowHeight(row: LaidOutItem | undefined): number {
  if (!row) return 0;
  const lines = row.item.content.split("\n").reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / ESTIMATED_CHARS_PER_LINE)), 0);
  const bubble = 20 + 22 * Math.min(lines, 200);
  return 3 + bubble + attachmentsHeight(row.item.attachments) + (row.startsGroup ? 34 : 0) + (row.startsDay ? 44 : 0) + (row.item.status === "sent" ? 0 : 22);
}

/**
 * The row above which the "New messages" line goes: the first message from someone else after
 * `pointer` (the reader's lastReadMessageId when the conversation was opened; null: nothing read).
 * None while that message may be in history not loaded yet: the line goes only where the row
 * before it (or the beginning of the conversation) is on hand.
 */
export function firstUnreadKey(items: readonly TimelineItem[], pointer: string | null, myId: string, historyComplete: boolean): string | null {
  const index = items.findIndex((item) => item.id !== null && item.senderId !== myId && (pointer === null || compareIds(item.id, pointer) > 0));
  if (index === -1) return null;
  return index > 0 || historyComplete ? (items[index] as TimelineItem).key : null;
}

/**
 * The row that gets "Seen" in a direct conversation: the reader's own last message, when it is
 * the newest message and the other person's read pointer (`seenUpTo`) has reached it. Once they
 * reply, the reply says as much, and a message still being sent is not seen yet.
 */
export function seenKey(items: readonly TimelineItem[], seenUpTo: string | null, myId: string): string | null {
  const last = items.at(-1);
  if (!last || last.senderId !== myId || last.id === null || seenUpTo === null) return null;
  return compareIds(seenUpTo, last.id) >= 0 ? last.key : null;
}

/**
 * Which message Up in an empty composer edits: the reader's own last one that is stored and not
 * deleted (one still being sent cannot be edited yet). Its index in `items`, or -1.
 */
export function lastEditableIndex(items: readonly TimelineItem[], myId: string): number {
  return items.findLastIndex((item) => item.senderId === myId && item.message !== null && item.message.deletedAt === null);
}
