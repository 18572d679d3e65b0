import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { conversationTitle, lastActivity, matchesConversation, otherMembers } from "../lib/conversations";
import { formatListTime } from "../lib/format";
import { rovingIndex } from "../lib/keyboard";
import { routeHash } from "../lib/route";
import { plainTextWithFiles } from "../lib/attachments";
import { markdownToPlainText } from "../lib/markdown";
import { presenceLabel } from "../lib/presence";
import { badgeText, describeUnread, unreadCounts } from "../lib/unread";
import { useChat } from "../app/context";
import { Avatar } from "./Avatar";
import { SearchIcon } from "./icons";
import { describeError, type Conversation, type Conversations, type Message, type User } from "@parley/client";

interface ConversationListProps {
  conversations: Conversation[];
  loading: boolean;
  error: unknown;
  onRetry(): void;
  /** More pages on the server, loaded when the end of the list comes into view. */
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreError: unknown;
  onLoadMore(): void;
  me: User;
  activeId: string | null;
  lastMessage(id: string): Message | null;
  /** The conversations as the chat store keeps them: the server's unread and mention counts. */
  readState: Conversations;
  onNewConversation(): void;
}

/** Start loading the next page this far before the end of the list comes into view. */
const LOAD_MORE_WITHIN_PX = 300;

function previewText(conversation: Conversation, last: Message | null, me: User): string {
  if (!last) return conversation.isDirect ? "No messages yet" : `${conversation.memberCount} members`;
  const text = last.deletedAt ? "Message deleted" : plainTextWithFiles(markdownToPlainText(last.content), last.attachments);
  if (last.senderId === me.id) return `You: ${text}`;
  if (conversation.isDirect) return text;
  const sender = conversation.members.find((m) => m.id === last.senderId);
  // The username, not the full name: anyone may call themselves "Bob".
  return sender ? `@${sender.username}: ${text}` : text;
}

export function ConversationList(props: ConversationListProps) {
  const { conversations, loading, error, onRetry, hasMore, loadingMore, loadMoreError, onLoadMore, me, activeId, lastMessage, readState, onNewConversation } = props;
  const [filter, setFilter] = useState("");
  const presence = useChat((s) => s.presence);
  const searchId = useId();
  const scroller = useRef<HTMLElement>(null);
  const end = useRef<HTMLLIElement>(null);

  // The end of the list in (or near) view: load the next page. Re-observed after each page, so a
  // page that does not fill the view is followed by the next one.
  useEffect(() => {
    const root = scroller.current;
    const target = end.current;
    if (!root || !target || !hasMore || loadingMore || loadMoreError) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onLoadMore(), {
      root,
      rootMargin: `0px 0px ${LOAD_MORE_WITHIN_PX}px 0px`,
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasMore, loadingMore, loadMoreError, onLoadMore, conversations.length]);
  const now = new Date();
  const needle = filter.trim().toLowerCase();
  const shown = needle ? conversations.filter((c) => matchesConversation(c, needle, me.id)) : conversations;

  // Roving focus: the list is one stop for Tab (the conversation last focused, else the open one,
  // else the first), and the arrow keys, Home and End move within it.
  const [focusedId, setFocusedId] = useState<string | null>(null);
  const tabStopId = [focusedId, activeId].find((id) => id !== null && shown.some((c) => c.id === id)) ?? shown[0]?.id;
  const onListKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const links = [...event.currentTarget.querySelectorAll<HTMLAnchorElement>("a.conv")];
    const current = links.findIndex((link) => link === document.activeElement);
    if (current === -1) return;
    const next = rovingIndex(event.key, current, links.length);
    if (next === null) return;
    event.preventDefault();
    links[next]?.focus();
  };

  return (
    <>
      <h2 className="sr-only">Conversations</h2>
      {conversations.length > 0 && (
        <div className="search">
          <label htmlFor={searchId} className="sr-only">
            Search conversations
          </label>
          <SearchIcon />
          <input id={searchId} type="search" placeholder="Search conversations" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </div>
      )}
      <nav ref={scroller} className="conversations" aria-label="Conversations" tabIndex={-1} aria-busy={loading || loadingMore || undefined}>
        {loading ? (
          <ul className="conv-list" aria-hidden="true">
            {[0, 1, 2, 3].map((i) => (
              <li key={i} className="conv conv--skeleton">
                <span className="skeleton skeleton--avatar" />
                <span className="conv__body">
                  <span className="skeleton skeleton--line" />
                  <span className="skeleton skeleton--line skeleton--short" />
                </span>
              </li>
            ))}
          </ul>
        ) : error ? (
          <div className="list-message" role="alert">
            <p>{describeError(error)}</p>
            <button type="button" className="button" onClick={onRetry}>
              Try again
            </button>
          </div>
        ) : conversations.length === 0 ? (
          <div className="list-message">
            <p>No conversations yet.</p>
            <button type="button" className="button button--primary" onClick={onNewConversation}>
              Start one
            </button>
          </div>
        ) : shown.length === 0 ? (
          <div className="list-message">
            <p>Nothing matches “{filter.trim()}”.</p>
          </div>
        ) : (
          <ul className="conv-list" onKeyDown={onListKeyDown}>
            {shown.map((c) => {
              const last = lastMessage(c.id);
              const title = conversationTitle(c, me.id);
              // By the reader's level: only mentions count at "mentions"; counts stay, greyed, when muted.
              const level = (readState.get(c.id) ?? c).notify;
              const all = unreadCounts(c, readState);
              const counts = level === "mentions" ? { unread: all.mentions, mentions: all.mentions } : all;
              const muted = level === "none";
              const other = c.isDirect ? otherMembers(c, me.id)[0] : undefined;
              const status = other ? presence.get(other.id) : undefined;
              const statusText = presenceLabel(status);
              const at = lastActivity(c, last);
              return (
                <li key={c.id}>
                  <a
                    href={routeHash({ view: "conversation", conversationId: c.id })}
                    className={`conv${counts.unread > 0 && !muted ? " conv--unread" : ""}`}
                    data-notify={level}
                    aria-current={c.id === activeId ? "page" : undefined}
                    data-conversation-id={c.id}
                    tabIndex={c.id === tabStopId ? 0 : -1}
                    onFocus={() => setFocusedId(c.id)}
                  >
                    <Avatar id={other?.id ?? c.id} name={title} group={!c.isDirect} presence={status} />
                    <span className="conv__body">
                      <span className="conv__top">
                        <span className="conv__title">{title}</span>
                        {other && <span className="conv__username">@{other.username}</span>}
                        {statusText && <span className="sr-only">, {statusText.toLowerCase()}</span>}
                        <time className="conv__time" dateTime={at}>
                          {formatListTime(at, now)}
                        </time>
                      </span>
                      <span className="conv__bottom">
                        <span className="conv__preview">{previewText(c, last, me)}</span>
                        {counts.unread > 0 && (
                          <span className={`conv__badges${muted ? " conv__badges--muted" : ""}`}>
                            {counts.mentions > 0 && (
                              <span className="badge badge--mention" aria-hidden="true">
                                @{badgeText(counts.mentions)}
                              </span>
                            )}
                            {level !== "mentions" && (
                              <span className="badge" aria-hidden="true">
                                {badgeText(counts.unread)}
                              </span>
                            )}
                            <span className="sr-only">
                              {describeUnread(counts)}
                              {muted && ", muted"}
                            </span>
                          </span>
                        )}
                      </span>
                    </span>
                  </a>
                </li>
              );
            })}
            {hasMore && (
              <li ref={end} className="conv-list__more">
                {loadMoreError ? (
                  <div className="list-message" role="alert">
                    <p>{describeError(loadMoreError)}</p>
                    <button type="button" className="button" onClick={onLoadMore}>
                      Try again
                    </button>
                  </div>
                ) : (
                  <p className="list-message" role="status">
                    <span className="spinner" aria-hidden="true" /> Loading more conversations…
                  </p>
                )}
              </li>
            )}
          </ul>
        )}
      </nav>
    </>
  );
}
