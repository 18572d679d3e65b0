import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { useChat, useRuntime } from "../app/context";
import { useFileDrop } from "../app/use-file-drop";
import { conversationTitle, otherMembers } from "../lib/conversations";
import { presenceLabel } from "../lib/presence";
import { typingText } from "../lib/typing";
import { Avatar } from "./Avatar";
import { Composer, attachFiles } from "./Composer";
import { ConnectionBanner } from "./Connection";
import { BackIcon, PaperclipIcon, UsersIcon } from "./icons";
import { MembersDialog } from "./MembersDialog";
import { NotifyMenu } from "./NotifyMenu";
import { MessageList, type Jump } from "./MessageList";
import { ThreadPanel } from "./ThreadPanel";
import { trpc } from "../trpc";
import { describeError, isWorthRetrying, type Conversation, type Message, type User } from "@parley/client";

interface ConversationPaneProps {
  conversationId: string;
  /** Opens the search listing this conversation's messages with files ("has:file in:<id>"). */
  onShowFiles(): void;
  /** Its entry in the loaded list (only the first members of a group), shown until the full one loads. */
  listed: Conversation | null;
  me: User;
  onBack(): void;
  /** Put focus in the composer as soon as it is on screen (once; then `onComposerFocused`). */
  focusComposer: boolean;
  onComposerFocused(): void;
  /** Leaves this group (from the members dialog), then shows what is next. */
  onLeave(title: string): Promise<void>;
  /** The reader is leaving it from here: its removal is no news to show. */
  leaving: boolean;
  /** The root message id of the thread open beside it (from the address), or null. */
  threadId: string | null;
  onOpenThread(rootId: string): void;
  onCloseThread(): void;
  /** A message to show with the history around it (found by search), or null for the newest. */
  jump: Jump | null;
  /** Back to the newest messages from a jump. */
  onLeaveJump(): void;
}

/** On touch screens, focusing the composer would pop the keyboard up over the conversation. */
const finePointer = () => window.matchMedia("(pointer: fine)").matches;

/** How many members a group's subtitle names: by username, as full names can look alike. */
const SUBTITLE_NAMES = 5;

function subtitle(conversation: Conversation, me: User): string {
  const others = otherMembers(conversation, me.id);
  if (conversation.isDirect) return others[0] ? `@${others[0].username}` : "";
  const names = ["You", ...others.slice(0, SUBTITLE_NAMES).map((m) => `@${m.username}`)];
  const unnamed = conversation.memberCount - names.length;
  return `${conversation.memberCount} members: ${names.join(", ")}${unnamed > 0 ? ` and ${unnamed} more` : ""}`;
}

export function ConversationPane(props: ConversationPaneProps) {
  const { conversationId, listed, me, onBack, focusComposer: focusRequested, onComposerFocused, onLeave, leaving, threadId, onOpenThread, onCloseThread, jump, onLeaveJump, onShowFiles } = props;
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const focusComposer = finePointer();
  // Removed from it, or left it in another tab, while this session went on: said below, not fetched.
  const removed = useChat((s) => s.removed.has(conversationId));
  // The whole member list, for senders' names; also finds a conversation not loaded in the list.
  const full = trpc.conversation.get.useQuery({ conversationId }, { staleTime: 5 * 60_000, enabled: !removed });
  const conversation = full.data ?? listed;
  const membersComplete = full.data !== undefined;
  const [membersOpen, setMembersOpen] = useState(false);
  const [editLastRequest, setEditLastRequest] = useState(0);
  const requestEditLast = useCallback(() => setEditLastRequest((n) => n + 1), []);
  // The thread's root as opened from the list, shown at once (opened from the address, the panel loads it).
  const [opened, setOpened] = useState<Message | null>(null);
  const openThread = useCallback(
    (root: Message) => {
      setOpened(root);
      onOpenThread(root.id);
    },
    [onOpenThread],
  );
  // A thread closed (its button, Escape, Back) with focus in it: focus goes back to its root in the
  // list (the replies, or Reply in thread), or to the heading when the root is not on screen.
  const shownThread = useRef(threadId);
  useEffect(() => {
    const closed = shownThread.current;
    shownThread.current = threadId;
    if (closed === null || threadId !== null) return;
    requestAnimationFrame(() => {
      if (document.activeElement !== null && document.activeElement !== document.body) return;
      const row = document.querySelector(`.messages [data-message-id="${closed}"]`);
      (row?.querySelector<HTMLElement>(".msg__replies, .msg__action--thread") ?? heading.current)?.focus();
    });
  }, [threadId]);

  const other = conversation?.isDirect ? otherMembers(conversation, me.id)[0] : undefined;
  const otherStatus = useChat((s) => (other ? s.presence.get(other.id) : undefined));
  // The reader's level, as the feed last said (another tab may change it), else as loaded.
  const notifyLevel = useChat((s) => s.conversations.get(conversationId)?.notify);
  const typists = useChat((s) => s.typing.get(conversationId));
  const membersById = useMemo(() => new Map((conversation?.members ?? []).map((m) => [m.id, m])), [conversation?.members]);
  const typing = useMemo(() => typingText([...(typists?.keys() ?? [])], membersById), [typists, membersById]);

  // Files dragged over the conversation: a drop target over it, and dropped files join the composer's.
  const { uploads } = useRuntime();
  const [dropNotice, setDropNotice] = useState<string | null>(null);
  const drop = useFileDrop((files) => setDropNotice(attachFiles(uploads, conversationId, null, files)));

  useEffect(() => {
    if (!focusComposer) heading.current?.focus();
  }, [conversationId, focusComposer]);

  if (removed && !leaving) return <NoLongerMember title={conversation ? conversationTitle(conversation, me.id) : null} onBack={onBack} />;

  if (!conversation) {
    const missing = full.isError && !isWorthRetrying(full.error);
    return (
      <section className="conversation conversation--missing" aria-live="polite">
        <header className="conversation__header">
          <button type="button" className="icon-button conversation__back" onClick={onBack}>
            <BackIcon />
            <span className="sr-only">Back to conversations</span>
          </button>
        </header>
        <div className="empty-pane">
          {full.isPending ? (
            <p role="status">
              <span className="spinner" aria-hidden="true" /> Loading…
            </p>
          ) : missing ? (
            <>
              <h2>Conversation not found</h2>
              <p>It may not exist, or you are not a member of it.</p>
              <a className="button" href="#/">
                Back to conversations
              </a>
            </>
          ) : (
            <div role="alert">
              <p>{describeError(full.error)}</p>
              <button type="button" className="button" onClick={() => void full.refetch()}>
                Try again
              </button>
            </div>
          )}
        </div>
      </section>
    );
  }

  const title = conversationTitle(conversation, me.id);
  const statusText = presenceLabel(otherStatus);
  return (
    <div className={`conversation-layout${threadId ? " conversation-layout--thread" : ""}`}>
      <section className="conversation" aria-labelledby={headingId} data-conversation-id={conversation.id} {...drop.handlers}>
        {drop.dragging && (
          <div className="drop-target" aria-hidden="true">
            <p>Drop files to send to {title}</p>
          </div>
        )}
        <header className="conversation__header">
          <button type="button" className="icon-button conversation__back" onClick={onBack}>
            <BackIcon />
            <span className="sr-only">Back to conversations</span>
          </button>
          <Avatar id={other?.id ?? conversation.id} name={title} group={!conversation.isDirect} presence={otherStatus} />
          <div className="conversation__heading">
            <h2 id={headingId} ref={heading} tabIndex={-1}>
              {title}
            </h2>
            <p className="conversation__subtitle">
              {subtitle(conversation, me)}
              {statusText && <span className={`conversation__presence conversation__presence--${otherStatus}`}> · {statusText}</span>}
            </p>
          </div>
          <button type="button" className="button button--quiet conversation__files" aria-haspopup="dialog" onClick={onShowFiles} title="Files in this conversation">
            <PaperclipIcon />
            <span className="sr-only">Files in this conversation</span>
          </button>
          <NotifyMenu conversationId={conversation.id} level={notifyLevel ?? conversation.notify} />
          <button type="button" className="button button--quiet conversation__members" aria-haspopup="dialog" onClick={() => setMembersOpen(true)} title="Members">
            <UsersIcon />
            <span>{conversation.memberCount}</span>
            <span className="sr-only">{conversation.memberCount === 1 ? "member" : "members"}</span>
          </button>
        </header>
        <ConnectionBanner />
        {/* A list of its own per jump: its history, scroll position and what it follows start afresh. */}
        <MessageList
          key={jump ? `jump-${jump.seq}` : "newest"}
          conversation={conversation}
          membersComplete={membersComplete}
          me={me}
          editLastRequest={editLastRequest}
          onOpenThread={openThread}
          around={jump?.messageId ?? null}
          onShowNewest={onLeaveJump}
        />
        {dropNotice && (
          <p className="drop-notice" role="alert">
            {dropNotice}
          </p>
        )}
        <Composer
          conversationId={conversation.id}
          recipient={title}
          autoFocus={focusComposer}
          focusRequested={focusRequested}
          onFocused={onComposerFocused}
          typingText={typing}
          onEditLast={requestEditLast}
          members={conversation.members}
          myId={me.id}
        />
        <MembersDialog
          open={membersOpen}
          conversation={conversation}
          membersComplete={membersComplete}
          me={me}
          onClose={() => setMembersOpen(false)}
          onLeave={onLeave}
        />
      </section>
      {threadId && (
        <ThreadPanel
          key={threadId}
          conversation={conversation}
          membersComplete={membersComplete}
          rootId={threadId}
          opened={opened?.id === threadId ? opened : null}
          foundReplyId={jump?.messageId === threadId ? jump.replyId : null}
          me={me}
          onClose={onCloseThread}
        />
      )}
    </div>
  );
}

/** The reader was removed from the open conversation, or left it elsewhere: nothing more to show or send. */
function NoLongerMember({ title, onBack }: { title: string | null; onBack(): void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // The composer that had focus is gone: keyboard and screen reader users start from the news.
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="conversation conversation--missing" data-removed="true">
      <header className="conversation__header">
        <button type="button" className="icon-button conversation__back" onClick={onBack}>
          <BackIcon />
          <span className="sr-only">Back to conversations</span>
        </button>
      </header>
      <div className="empty-pane" role="alert">
        <h2 ref={heading} tabIndex={-1}>
          You are no longer a member of {title ? `“${title}”` : "this conversation"}
        </h2>
        <p>You were removed from it, or you left it in another window. You cannot send messages to it.</p>
        <a className="button" href="#/">
          Back to conversations
        </a>
      </div>
    </section>
  );
}
