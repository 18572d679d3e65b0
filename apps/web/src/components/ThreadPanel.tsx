// A thread beside its conversation (the whole view on a narrow screen): the root message, its
// replies (message.list with threadId, then live from the feed through the store) and a composer
// that replies in it, where Up edits the reader's last reply. Replies seen here are marked read
// like the main list's messages. The open thread is in the address, so one opened from it (a
// reload, a link) loads its root first (lib/threads.ts).
import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useChat, useRuntime } from "../app/context";
import { useFileDrop } from "../app/use-file-drop";
import { useReadWhenSeen } from "../app/use-read-when-seen";
import { threadRootInput } from "../lib/threads";
import { trpc } from "../trpc";
import { Composer, attachFiles } from "./Composer";
import { CloseIcon } from "./icons";
import { DeleteMessageDialog, useEditAndDelete } from "./MessageActions";
import { FORMER_MEMBER, FOUND_HIGHLIGHT_MS, MessageRow, UNKNOWN_YET, senderName } from "./MessageList";
import { buildTimeline, describeError, isWorthRetrying, latestVersion, type Conversation, type Message, type OutboxEntry, type User } from "@parley/client";

const PAGE_SIZE = 50;
const THREAD_COMPOSER_ID = "thread-composer-input";
const NO_MESSAGES: readonly Message[] = [];
const NO_ENTRIES: readonly OutboxEntry[] = [];
const noop = () => undefined;

interface ThreadPanelProps {
  conversation: Conversation;
  membersComplete: boolean;
  /** The thread's root message id, from the address. */
  rootId: string;
  /** The root as it was when opened from the list; null when opened from the address, which loads it. */
  opened: Message | null;
  /** A reply found by search: earlier replies load until it is there, then it is scrolled to and marked. */
  foundReplyId?: string | null;
  me: User;
  onClose(): void;
}

export function ThreadPanel({ conversation, membersComplete, rootId, opened, foundReplyId = null, me, onClose }: ThreadPanelProps) {
  const headingId = useId();
  const changed = useChat((s) => s.changed);
  const rootInput = threadRootInput(conversation.id, rootId);
  const rootQuery = trpc.message.list.useQuery(rootInput ?? { conversationId: conversation.id, limit: 1 }, {
    enabled: opened === null && rootInput !== null,
    staleTime: Infinity,
    select: (page) => page.items.find((m) => m.id === rootId) ?? null,
  });
  const first = opened ?? rootQuery.data ?? null;
  const missing = rootInput === null || rootQuery.data === null || (rootQuery.isError && !isWorthRetrying(rootQuery.error));

  // Files dropped on the thread go with the next reply.
  const { uploads } = useRuntime();
  const [dropNotice, setDropNotice] = useState<string | null>(null);
  const drop = useFileDrop((files) => setDropNotice(attachFiles(uploads, conversation.id, rootId, files)));

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      onClose();
    }
  };

  return (
    <aside className="thread" aria-labelledby={headingId} onKeyDown={onKeyDown} data-thread-id={rootId} {...drop.handlers}>
      {drop.dragging && (
        <div className="drop-target" aria-hidden="true">
          <p>Drop files to reply with them</p>
        </div>
      )}
      <header className="thread__header">
        <h2 id={headingId}>Thread</h2>
        <button type="button" className="icon-button" onClick={onClose} title="Close thread (Escape)">
          <CloseIcon />
          <span className="sr-only">Close thread</span>
        </button>
      </header>
      {dropNotice && (
        <p className="drop-notice" role="alert">
          {dropNotice}
        </p>
      )}
      {first ? (
        <Thread conversation={conversation} membersComplete={membersComplete} root={latestVersion(first, changed)} me={me} foundReplyId={foundReplyId} />
      ) : (
        <div className="thread__body">
          {missing ? (
            <div role="alert">
              <h3>Thread not found</h3>
              <p>Its first message may be in another conversation, or the link may be wrong.</p>
            </div>
          ) : rootQuery.isError ? (
            <div role="alert">
              <p>{describeError(rootQuery.error)}</p>
              <button type="button" className="button" onClick={() => void rootQuery.refetch()}>
                Try again
              </button>
            </div>
          ) : (
            <p role="status">
              <span className="spinner" aria-hidden="true" /> Loading thread…
            </p>
          )}
        </div>
      )}
    </aside>
  );
}

interface ThreadProps {
  conversation: Conversation;
  membersComplete: boolean;
  root: Message;
  me: User;
  foundReplyId: string | null;
}

/** The root, the replies and the composer, once the root is known. */
function Thread({ conversation, membersComplete, root, me, foundReplyId }: ThreadProps) {
  const { sender } = useRuntime();
  const changed = useChat((s) => s.changed);
  const query = trpc.message.list.useInfiniteQuery(
    { conversationId: conversation.id, threadId: root.id, limit: PAGE_SIZE },
    { getNextPageParam: (page) => page.nextCursor, staleTime: Infinity },
  );
  const live = useChat((s) => s.live.get(conversation.id) ?? NO_MESSAGES);
  const outbox = useChat((s) => s.outbox);
  const mine = useMemo(() => {
    const entries = outbox.filter((e) => e.conversationId === conversation.id && e.threadId === root.id);
    return entries.length > 0 ? entries : NO_ENTRIES;
  }, [outbox, conversation.id, root.id]);
  const pages = query.data?.pages;
  const replies = useMemo(
    () => buildTimeline({ pages: pages?.map((p) => p.items) ?? [], live, outbox: mine, changed, threadId: root.id }),
    [pages, live, mine, changed, root.id],
  );

  const members = useMemo(() => new Map(conversation.members.map((m) => [m.id, m])), [conversation.members]);
  const ownsGroup = !conversation.isDirect && members.get(me.id)?.role === "owner";
  const nameOf = useCallback((userId: string) => (userId === me.id ? "you" : senderName(members.get(userId))), [me.id, members]);
  const senderOf = (userId: string) => members.get(userId) ?? (membersComplete ? FORMER_MEMBER : UNKNOWN_YET);
  const { editingId, startEdit, endEdit, editLast, deleting, setDeleting } = useEditAndDelete(THREAD_COMPOSER_ID);
  // Up in the empty thread composer: the reader's last reply here (the editor scrolls itself into view).
  const editLastReply = useCallback(() => void editLast(replies, me.id), [editLast, replies, me.id]);
  const retry = useCallback((clientMessageId: string) => sender.retry(clientMessageId), [sender]);
  const discard = useCallback((clientMessageId: string) => sender.discard(clientMessageId), [sender]);

  const scroller = useRef<HTMLDivElement>(null);
  const watchRow = useReadWhenSeen(conversation.id, scroller, noop);
  const rowRef = useCallback((row: HTMLLIElement | null) => (row ? watchRow(row) : undefined), [watchRow]);

  // New replies keep the view at the end.
  const count = replies.length;
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count]);

  // A reply found by search: earlier pages until it is loaded (threads are short, and paging this
  // way keeps live replies in order), then scrolled to, marked for a moment and focused.
  const { hasNextPage, isFetching, fetchNextPage } = query;
  const foundLoaded = foundReplyId !== null && replies.some((r) => r.id === foundReplyId);
  useEffect(() => {
    if (foundReplyId !== null && !foundLoaded && hasNextPage && !isFetching) void fetchNextPage();
  }, [foundReplyId, foundLoaded, hasNextPage, isFetching, fetchNextPage]);
  const [marked, setMarked] = useState<string | null>(null);
  const shownFound = useRef(false);
  useEffect(() => {
    if (!foundLoaded || shownFound.current) return;
    shownFound.current = true;
    setMarked(foundReplyId);
    const reply = scroller.current?.querySelector<HTMLElement>(`[data-message-id="${foundReplyId}"]`)?.closest<HTMLElement>(".thread__reply");
    reply?.scrollIntoView({ block: "center" });
    reply?.focus({ preventScroll: true });
  }, [foundLoaded, foundReplyId]);
  useEffect(() => {
    if (marked === null) return;
    const timer = setTimeout(() => setMarked(null), FOUND_HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [marked]);

  const row = (message: Message | null, item: (typeof replies)[number]) => (
    <MessageRow
      item={item}
      sender={senderOf(item.senderId)}
      mine={item.senderId === me.id}
      showAvatar={!conversation.isDirect}
      startsGroup
      endsGroup
      seen={false}
      myId={me.id}
      myUsername={me.username}
      nameOf={nameOf}
      canDelete={item.senderId === me.id || ownsGroup}
      editing={message !== null && message.id === editingId}
      onRetry={retry}
      onDiscard={discard}
      onEdit={startEdit}
      onEditDone={endEdit}
      onDelete={setDeleting}
    />
  );
  const rootItem = buildTimeline({ pages: [[root]], live: [], outbox: [], changed })[0];

  return (
    <>
      <div className="thread__body" ref={scroller} tabIndex={0} role="region" aria-label="Thread messages">
        {rootItem && <div className="thread__root">{row(rootItem.message, rootItem)}</div>}
        <p className="thread__count">{root.replyCount === 1 ? "1 reply" : `${root.replyCount} replies`}</p>
        {query.hasNextPage && (
          <button type="button" className="button button--quiet" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            Load earlier replies
          </button>
        )}
        {query.isPending && (
          <p role="status">
            <span className="spinner" aria-hidden="true" /> Loading replies…
          </p>
        )}
        <ol className="thread__replies">
          {replies.map((item) => (
            <li
              key={item.key}
              ref={rowRef}
              className={item.id !== null && item.id === marked ? "thread__reply thread__reply--found" : "thread__reply"}
              tabIndex={item.id !== null && item.id === foundReplyId ? -1 : undefined}
            >
              {row(item.message, item)}
            </li>
          ))}
        </ol>
      </div>
      {root.deletedAt ? (
        <p className="thread__closed">The first message was deleted: no new replies.</p>
      ) : (
        <Composer
          conversationId={conversation.id}
          recipient="thread"
          threadId={root.id}
          inputId={THREAD_COMPOSER_ID}
          autoFocus
          focusRequested={false}
          onFocused={noop}
          typingText={null}
          onEditLast={editLastReply}
          members={conversation.members}
          myId={me.id}
        />
      )}
      <DeleteMessageDialog
        message={deleting}
        othersName={deleting && deleting.senderId !== me.id ? senderName(members.get(deleting.senderId)) : null}
        focusAfterId={THREAD_COMPOSER_ID}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
