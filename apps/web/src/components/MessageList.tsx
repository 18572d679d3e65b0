import { defaultRangeExtractor, useVirtualizer, type Range } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useChat, useRuntime } from "../app/context";
import { useReadWhenSeen } from "../app/use-read-when-seen";
import { conversationTitle, displayName, otherMembers } from "../lib/conversations";
import { formatDayLabel, formatFull, formatTime } from "../lib/format";
import { renderMarkdown } from "../lib/markdown";
import { estimateRowHeight, firstUnreadKey, layOut, seenKey } from "../lib/message-groups";
import { liveWithinHistory } from "../lib/history-window";
import { useMessageHistory } from "../app/use-message-history";
import { Attachments } from "./Attachments";
import { Avatar } from "./Avatar";
import { COMPOSER_ID } from "./Composer";
import { DeleteMessageDialog, MessageEditor, useEditAndDelete } from "./MessageActions";
import { ReactionBar, ReactionPicker } from "./Reactions";
import { AlertIcon, ArrowDownIcon, ClockIcon } from "./icons";
import { compareIds, describeError, type OutboxEntry, buildTimeline, readBy, type TimelineItem, type Conversation, type Message, type User } from "@parley/client";

/** The message history's id: the skip link's target. */
export const MESSAGES_ID = "messages";
/** Start loading older messages this close to the top (and newer ones this close to the bottom of a window). */
const LOAD_OLDER_WITHIN_PX = 400;
/** How long a message jumped to (here or in a thread) stays highlighted. */
export const FOUND_HIGHLIGHT_MS = 3_000;
/** Counts as "at the bottom", where new messages keep the view scrolled down. */
const AT_BOTTOM_WITHIN_PX = 80;
/** Rows rendered beyond each edge of the view, so a quick scroll does not show blank space. */
const OVERSCAN = 8;

const NO_MESSAGES: readonly Message[] = [];
const NO_ENTRIES: readonly OutboxEntry[] = [];
/** A sender no longer among the members, or one not known until the whole member list loads. */
export const FORMER_MEMBER = { kind: "former" } as const;
export const UNKNOWN_YET = { kind: "loading" } as const;
type Sender = User | typeof FORMER_MEMBER | typeof UNKNOWN_YET;

interface MessageListProps {
  conversation: Conversation;
  /** Whether `conversation.members` is everyone (from conversation.get), not a listed group's first few. */
  membersComplete: boolean;
  me: User;
  /** Grows each time the person asks to edit their last message (Up in the empty composer). */
  editLastRequest: number;
  onOpenThread(root: Message): void;
  /** Open at this message (found by search), with the history around it; null: at the newest. */
  around: string | null;
  /** Leave the history around `around` for the newest messages (Jump to newest, or one's own send). */
  onShowNewest(): void;
}

/** A message to open a conversation at. */
export interface Jump {
  conversationId: string;
  /** The message of the main list to show (for a reply, its thread's root). */
  messageId: string;
  /** A reply to show in the thread of `messageId`, or null. */
  replyId: string | null;
  /** Counts the jumps, so a second jump to the same message starts afresh too. */
  seq: number;
}

export function MessageList({ conversation, membersComplete, me, editLastRequest, onOpenThread, around, onShowNewest }: MessageListProps) {
  const { sender } = useRuntime();
  const history = useMessageHistory(conversation.id, around);
  const { pages, hasOlder: hasNextPage, loadingOlder: isFetchingNextPage, reachesNewest, hasNewer, loadNewer } = history;

  const allLive = useChat((s) => s.live.get(conversation.id) ?? NO_MESSAGES);
  const changed = useChat((s) => s.changed);
  const outbox = useChat((s) => s.outbox);
  const allMine = useMemo(() => {
    const entries = outbox.filter((e) => e.conversationId === conversation.id);
    return entries.length > 0 ? entries : NO_ENTRIES;
  }, [outbox, conversation.id]);
  // A window that does not reach the newest shows neither live messages past it nor one's own unsent ones.
  const live = useMemo(() => liveWithinHistory(allLive, pages ?? [], reachesNewest), [allLive, pages, reachesNewest]);
  const mine = reachesNewest ? allMine : NO_ENTRIES;
  const timeline = useMemo(() => buildTimeline({ pages: pages ?? [], live, outbox: mine, changed }), [pages, live, mine, changed]);
  const laid = useMemo(() => layOut(timeline), [timeline]);

  // Where the reader had read up to when they opened the conversation (once the store knows it),
  // so the "New messages" line stays put while they read, until they leave the conversation.
  const known = useChat((s) => s.conversations.get(conversation.id));
  const [readWhenOpened, setReadWhenOpened] = useState<{ pointer: string | null; unread: boolean } | null>(null);
  if (readWhenOpened === null && known) setReadWhenOpened({ pointer: known.lastReadMessageId, unread: known.unreadCount > 0 });
  const newMessagesKey = useMemo(
    () => (readWhenOpened?.unread && pages ? firstUnreadKey(timeline, readWhenOpened.pointer, me.id, !hasNextPage) : null),
    [readWhenOpened, timeline, me.id, pages, hasNextPage],
  );

  // "Seen" under one's last message in a direct conversation: the other person's read pointer, as
  // the store follows it, or as the conversation loaded here says, whichever is further.
  const other = conversation.isDirect ? conversation.members.find((m) => m.id !== me.id) : undefined;
  const receipt = useChat((s) => (other ? readBy(s.receipts, conversation.id, other.id) : null));
  const seenUpTo = furthest(receipt, other?.lastReadMessageId ?? null);
  // Replies from others this tab holds after the reader's pointer, per thread: shown as "new" on the root.
  const pointer = known?.lastReadMessageId ?? null;
  const newReplies = useMemo(() => {
    const counts = new Map<string, number>();
    for (const m of live) {
      if (m.threadId && m.senderId !== me.id && !m.deletedAt && (pointer === null || compareIds(m.id, pointer) > 0)) counts.set(m.threadId, (counts.get(m.threadId) ?? 0) + 1);
    }
    return counts;
  }, [live, pointer, me.id]);
  const seenRowKey = useMemo(() => seenKey(timeline, seenUpTo, me.id), [timeline, seenUpTo, me.id]);

  const retry = useCallback((clientMessageId: string) => sender.retry(clientMessageId), [sender]);
  const discard = useCallback((clientMessageId: string) => sender.discard(clientMessageId), [sender]);
  const members = useMemo(() => new Map(conversation.members.map((m) => [m.id, m])), [conversation.members]);
  const isGroup = !conversation.isDirect;
  // Owners of a group may delete anyone's message there.
  const ownsGroup = isGroup && members.get(me.id)?.role === "owner";
  const nameOf = useCallback((userId: string) => (userId === me.id ? "you" : senderName(members.get(userId))), [me.id, members]);

  const { editingId, startEdit, endEdit, editLast, deleting, setDeleting } = useEditAndDelete(COMPOSER_ID);

  const scroller = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  const lastKey = useRef<string | null>(null);
  const [unseen, setUnseen] = useState(0);
  // Where the list starts inside the scrolled content (below the history edge), which the
  // virtualizer needs to know which rows are in view.
  const [listTop, setListTop] = useState(0);

  // Only the rows in and near the view are in the DOM (a long history was thousands of nodes),
  // each measured once shown. Anchored at the end: when older pages are added above, the row in
  // view stays where it is; when the view is at the end, it stays there as rows grow.
  const getItemKey = useCallback((index: number) => laid[index]?.item.key ?? index, [laid]);
  const estimateSize = useCallback((index: number) => estimateRowHeight(laid[index]), [laid]);
  // The row holding focus stays rendered while scrolled out of view, so focus is not lost with it.
  const focusedKey = useRef<string | null>(null);
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      const focused = focusedKey.current === null ? -1 : laid.findIndex((row) => row.item.key === focusedKey.current);
      return focused === -1 || indexes.includes(focused) ? indexes : [...indexes, focused].sort((a, b) => a - b);
    },
    [laid],
  );
  const virtualizer = useVirtualizer({
    count: laid.length,
    getScrollElement: () => scroller.current,
    getItemKey,
    estimateSize,
    rangeExtractor,
    overscan: OVERSCAN,
    scrollMargin: listTop,
    anchorTo: "end",
    // A window below which newer pages load must not follow them to its end (and load the next, and the next).
    followOnAppend: reachesNewest,
    scrollEndThreshold: AT_BOTTOM_WITHIN_PX,
  });

  // Each rendered row is measured by the virtualizer and watched for being seen (marks read).
  const forgetGoneRows = useCallback(() => virtualizer.measureElement(null), [virtualizer]);
  const watchRow = useReadWhenSeen(conversation.id, scroller, forgetGoneRows);
  const rowRef = useCallback(
    (row: HTMLLIElement | null) => {
      if (!row) return;
      virtualizer.measureElement(row);
      return watchRow(row);
    },
    [virtualizer, watchRow],
  );

  // Up in the empty composer: edit one's last message that can be edited, scrolled into view.
  const handledEditRequest = useRef(editLastRequest);
  useEffect(() => {
    if (editLastRequest === handledEditRequest.current) return;
    handledEditRequest.current = editLastRequest;
    const index = editLast(timeline, me.id);
    if (index !== -1) virtualizer.scrollToIndex(index, { align: "center" });
  }, [editLastRequest, timeline, me.id, virtualizer, editLast]);

  const loadOlder = history.loadOlder;

  const scrollToBottom = useCallback(
    (smooth = false) => {
      virtualizer.scrollToEnd({ behavior: smooth ? "smooth" : "auto" });
      atBottom.current = true;
      setUnseen(0);
    },
    [virtualizer],
  );

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    atBottom.current = reachesNewest && fromBottom < AT_BOTTOM_WITHIN_PX;
    if (atBottom.current) setUnseen(0);
    if (el.scrollTop < LOAD_OLDER_WITHIN_PX) loadOlder();
    if (fromBottom < LOAD_OLDER_WITHIN_PX) loadNewer();
  };

  // The history edge above the list changes height (a spinner, a button, the beginning): keep the
  // rows in view where they are when it does.
  useLayoutEffect(() => {
    const el = scroller.current;
    const top = list.current?.offsetTop ?? 0;
    if (!el || top === listTop) return;
    if (!atBottom.current) el.scrollTop += top - listTop;
    setListTop(top);
  });

  // Follow new messages at the bottom (the virtualizer does while the view is there), and one's
  // own even from further up; count the others that arrive while reading older ones.
  useLayoutEffect(() => {
    const el = scroller.current;
    const last = laid.at(-1)?.item;
    if (!el || !last) return;
    if (lastKey.current !== last.key) {
      const appended = lastKey.current !== null;
      const ownNew = last.senderId === me.id && last.status !== "sent";
      // Opened at a message: the view goes there (below), not to the end. Its newer pages are no news.
      if (around !== null && !appended) atBottom.current = false;
      else if (!appended || ownNew) scrollToBottom();
      else if (!atBottom.current && (around === null || live.at(-1)?.id === last.id)) setUnseen((n) => n + 1);
      lastKey.current = last.key;
    }
    // Not enough history to scroll yet: fetch more until there is.
    if (el.scrollHeight - el.clientHeight < LOAD_OLDER_WITHIN_PX) {
      loadOlder();
      loadNewer();
    }
  }, [laid, me.id, scrollToBottom, loadOlder, loadNewer, around, live]);

  // A window's last page of newer messages arrived with the view at its end: from now on that is
  // the bottom, where new messages are followed.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (around === null || !reachesNewest || !el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_WITHIN_PX;
  }, [around, reachesNewest]);

  // Opened at a message: scrolled to it once it is loaded, highlighted for a moment, and focused, so
  // a keyboard or screen reader user continues from there.
  const [found, setFound] = useState<string | null>(null);
  const scrolledToFound = useRef(false);
  useLayoutEffect(() => {
    if (around === null || scrolledToFound.current) return;
    const index = laid.findIndex((row) => row.item.id === around);
    if (index === -1) return;
    scrolledToFound.current = true;
    setFound(around);
    virtualizer.scrollToIndex(index, { align: "center" });
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`.message-row--found`)?.focus({ preventScroll: true }));
  }, [around, laid, virtualizer]);
  useEffect(() => {
    if (found === null) return;
    const timer = setTimeout(() => setFound(null), FOUND_HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [found]);

  // Sending from a window that does not reach the newest: the newest is where the message goes, so go there.
  const sentFromWindow = useRef(allMine.length);
  useEffect(() => {
    if (!reachesNewest && allMine.length > sentFromWindow.current) onShowNewest();
    sentFromWindow.current = allMine.length;
  }, [reachesNewest, allMine.length, onShowNewest]);

  // Stay at the bottom when the view changes size (window resize, on-screen keyboard).
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const now = new Date();
  const title = conversationTitle(conversation, me.id);

  return (
    <div className="messages-wrap">
      <div className="messages" id={MESSAGES_ID} ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label={`Messages with ${title}`}>
        <div className="messages__inner">
          <div className="history-edge">
            {history.isPending ? (
              <p className="history-edge__status" role="status">
                <span className="spinner" aria-hidden="true" /> Loading messages…
              </p>
            ) : history.error ? (
              <div className="history-edge__status" role="alert">
                <p>{describeError(history.error)}</p>
                <button type="button" className="button" onClick={history.refetch}>
                  Try again
                </button>
                {around !== null && (
                  <button type="button" className="button button--quiet" onClick={onShowNewest}>
                    Show the newest messages
                  </button>
                )}
              </div>
            ) : hasNextPage ? (
              isFetchingNextPage ? (
                <p className="history-edge__status" role="status">
                  <span className="spinner" aria-hidden="true" /> Loading earlier messages…
                </p>
              ) : (
                <button type="button" className="button button--quiet" onClick={loadOlder}>
                  Load earlier messages
                </button>
              )
            ) : (
              <Beginning conversation={conversation} me={me} title={title} empty={timeline.length === 0} />
            )}
          </div>
          <ol
            className="message-list"
            ref={list}
            style={{ height: virtualizer.getTotalSize() }}
            onFocus={(event) => {
              focusedKey.current = event.target.closest<HTMLElement>("[data-key]")?.dataset.key ?? null;
            }}
            onBlur={() => {
              focusedKey.current = null;
            }}
          >
            {virtualizer.getVirtualItems().map((row) => {
              const { item, startsDay, startsGroup, endsGroup } = laid[row.index] as (typeof laid)[number];
              return (
                // One row per message, its day heading with it; each says where it stands in the
                // loaded history, since most rows are not in the DOM.
                <li
                  key={row.key}
                  ref={rowRef}
                  data-index={row.index}
                  className={item.id !== null && item.id === found ? "message-row message-row--found" : "message-row"}
                  tabIndex={item.id !== null && item.id === around ? -1 : undefined}
                  style={{ transform: `translateY(${row.start - virtualizer.options.scrollMargin}px)` }}
                  aria-setsize={laid.length}
                  aria-posinset={row.index + 1}
                >
                  {startsDay && (
                    <div className="day-divider">
                      <span>{formatDayLabel(item.createdAt, now)}</span>
                    </div>
                  )}
                  {item.key === newMessagesKey && (
                    <div className="new-messages-divider">
                      <span>New messages</span>
                    </div>
                  )}
                  <MessageRow
                    item={item}
                    sender={members.get(item.senderId) ?? (membersComplete ? FORMER_MEMBER : UNKNOWN_YET)}
                    mine={item.senderId === me.id}
                    showAvatar={isGroup}
                    startsGroup={startsGroup}
                    endsGroup={endsGroup}
                    seen={item.key === seenRowKey}
                    myId={me.id}
                    myUsername={me.username}
                    nameOf={nameOf}
                    canDelete={item.senderId === me.id || ownsGroup}
                    editing={item.id !== null && item.id === editingId}
                    onRetry={retry}
                    onDiscard={discard}
                    onEdit={startEdit}
                    onEditDone={endEdit}
                    onDelete={setDeleting}
                    onOpenThread={onOpenThread}
                    newReplies={item.id ? newReplies.get(item.id) : undefined}
                  />
                </li>
              );
            })}
          </ol>
          {!reachesNewest && pages && (
            <div className="history-edge history-edge--newer">
              {history.loadingNewer ? (
                <p className="history-edge__status" role="status">
                  <span className="spinner" aria-hidden="true" /> Loading newer messages…
                </p>
              ) : (
                hasNewer && (
                  <button type="button" className="button button--quiet" onClick={loadNewer}>
                    Load newer messages
                  </button>
                )
              )}
            </div>
          )}
        </div>
      </div>
      {!reachesNewest && pages && (
        <button type="button" className="jump-to-latest" onClick={onShowNewest}>
          <ArrowDownIcon /> Jump to newest
        </button>
      )}
      {unseen > 0 && (
        <button type="button" className="jump-to-latest" onClick={() => scrollToBottom(true)}>
          <ArrowDownIcon /> {unseen === 1 ? "1 new message" : `${unseen} new messages`}
        </button>
      )}
      <DeleteMessageDialog
        message={deleting}
        othersName={deleting && deleting.senderId !== me.id ? senderName(members.get(deleting.senderId)) : null}
        focusAfterId={COMPOSER_ID}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

/**
 * A message's text, formatted. The HTML comes from renderMarkdown only, which escapes everything the
 * author wrote that is not in the Markdown subset (raw HTML is off): see lib/markdown.ts.
 */
const MessageText = memo(function MessageText({ content, highlight }: { content: string; highlight: string | null }) {
  const html = useMemo(() => renderMarkdown(content, { highlight }), [content, highlight]);
  return <div className="msg__bubble msg__text" dangerouslySetInnerHTML={{ __html: html }} />;
});

export function senderName(member: User | undefined): string {
  return member ? displayName(member) : "a former member";
}

/** The later of two message ids (null: none). */
function furthest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  return b !== null && compareIds(b, a) > 0 ? b : a;
}

function Beginning({ conversation, me, title, empty }: { conversation: Conversation; me: User; title: string; empty: boolean }) {
  const other = conversation.isDirect ? otherMembers(conversation, me.id)[0] : undefined;
  return (
    <div className="beginning">
      <Avatar id={other?.id ?? conversation.id} name={title} size="lg" group={!conversation.isDirect} />
      <h3>{title}</h3>
      <p>
        {conversation.isDirect
          ? `This is the beginning of your conversation with ${title}.`
          : `This is the beginning of ${conversation.title ? `“${title}”` : "this group"}, with ${conversation.memberCount} members.`}
        {empty && " Say hello!"}
      </p>
    </div>
  );
}

export interface MessageRowProps {
  item: TimelineItem;
  sender: Sender;
  mine: boolean;
  showAvatar: boolean;
  startsGroup: boolean;
  endsGroup: boolean;
  /** The other person of a direct conversation has read it. */
  seen: boolean;
  myId: string;
  myUsername: string;
  /** A member's name as shown ("you" for the reader). */
  nameOf(userId: string): string;
  /** The reader may delete it (their own, or they own the group). */
  canDelete: boolean;
  /** It is being edited in place. */
  editing: boolean;
  onRetry(clientMessageId: string): void;
  onDiscard(clientMessageId: string): void;
  onEdit(messageId: string): void;
  onEditDone(): void;
  onDelete(message: Message): void;
  /** Opens the message's thread (absent for a reply, or the root shown in its own thread). */
  onOpenThread?(message: Message): void;
  /** Replies in its thread from others after the reader's pointer, as far as this tab holds them. */
  newReplies?: number;
}

export const MessageRow = memo(function MessageRow(props: MessageRowProps) {
  const { item, sender, mine, showAvatar, startsGroup, endsGroup, seen, myId, myUsername, nameOf, canDelete, editing, onRetry, onDiscard, onEdit, onEditDone, onDelete, onOpenThread, newReplies = 0 } = props;
  const stored = item.message;
  const deleted = Boolean(stored?.deletedAt);
  const mentionsMe = !mine && (stored?.mentions.includes(myId) ?? false);
  const person = "id" in sender ? sender : null;
  const name = mine ? "You" : person ? displayName(person) : sender === FORMER_MEMBER ? "Former member" : "\u2026";
  // The username beside the name: a full name may imitate someone else's.
  const username = !mine && person ? `@${person.username}` : null;
  const time = formatTime(item.createdAt);
  const classes = ["msg", mine ? "msg--mine" : "msg--theirs", startsGroup ? "msg--first" : "", endsGroup ? "msg--last" : "", `msg--${item.status}`, mentionsMe ? "msg--mentions-me" : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={classes} data-key={item.key} data-message-id={item.id ?? undefined} data-status={item.status} data-waiting={item.waiting || undefined}>
      {showAvatar && !mine && <div className="msg__gutter">{startsGroup && <Avatar id={item.senderId} name={name} size="sm" />}</div>}
      <div className="msg__main">
        {startsGroup ? (
          <div className="msg__meta">
            <span className={mine ? "sr-only" : "msg__sender"}>{name}</span>
            {username && <span className="msg__username">{username}</span>}
            {person?.deactivated && <span className="tag tag--deactivated">deactivated</span>}
            <time dateTime={item.createdAt} title={formatFull(item.createdAt)}>
              {time}
            </time>
          </div>
        ) : (
          <span className="sr-only">
            {name}
            {username && ` ${username}`}, {time}:
          </span>
        )}
        {deleted ? (
          <div className="msg__bubble msg__deleted">Message deleted</div>
        ) : editing && stored ? (
          <MessageEditor message={stored} onDone={onEditDone} />
        ) : (
          // A message of files alone has no text bubble.
          (item.content !== "" || item.attachments.length === 0) && <MessageText content={item.content} highlight={mentionsMe ? myUsername : null} />
        )}
        {!deleted && !editing && <Attachments attachments={item.attachments} />}
        {stored?.editedAt && !deleted && (
          <span className="msg__edited" title={`Edited ${formatFull(stored.editedAt)}`}>
            (edited)
          </span>
        )}
        {stored && !deleted && <ReactionBar message={stored} myId={myId} nameOf={nameOf} />}
        {stored && onOpenThread && stored.replyCount > 0 && (
          <button type="button" className="msg__replies" onClick={() => onOpenThread(stored)}>
            {stored.replyCount === 1 ? "1 reply" : `${stored.replyCount} replies`}
            {newReplies > 0 && <span className="msg__replies-new"> · {newReplies} new</span>}
            {stored.lastReplyAt && <span className="msg__replies-when"> · last {formatTime(stored.lastReplyAt)}</span>}
          </button>
        )}
        {stored && !deleted && !editing && (
          <div className="msg__actions" role="group" aria-label="Message actions">
            <ReactionPicker message={stored} myId={myId} />
            {onOpenThread && (
              <button type="button" className="msg__action msg__action--thread" onClick={() => onOpenThread(stored)}>
                Reply in thread
              </button>
            )}
            {mine && (
              <button type="button" className="msg__action msg__action--edit" onClick={() => onEdit(stored.id)}>
                Edit<span className="sr-only"> message</span>
              </button>
            )}
            {canDelete && (
              <button type="button" className="msg__action msg__action--delete" aria-haspopup="dialog" onClick={() => onDelete(stored)}>
                Delete<span className="sr-only"> message</span>
              </button>
            )}
          </div>
        )}
        {item.status === "pending" && (
          <div className={`msg__status msg__status--pending${item.waiting ? " msg__status--waiting" : ""}`}>
            <ClockIcon /> {item.waiting ? "Waiting for connection…" : "Sending…"}
          </div>
        )}
        {seen && <div className="msg__status msg__status--seen">Seen</div>}
        {item.status === "failed" && (
          <div className="msg__status msg__status--failed" role="alert">
            <AlertIcon /> <span>{item.error ?? "Not sent."}</span>
            <button type="button" className="link-button" onClick={() => onRetry(item.clientMessageId)}>
              Retry
            </button>
            <button type="button" className="link-button link-button--muted" onClick={() => onDiscard(item.clientMessageId)}>
              Delete
            </button>
          </div>
        )}
      </div>
    </div>
  );
});
