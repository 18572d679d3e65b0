import { keepPreviousData } from "@tanstack/react-query";
import { useId, useMemo, useState, type KeyboardEvent, type MouseEvent, type ReactNode } from "react";
import { useDebounced } from "../app/use-debounced";
import { useModalDialog } from "../app/use-modal-dialog";
import { conversationTitle, displayName, otherMembers, switcherMatches } from "../lib/conversations";
import { formatFull, formatListTime } from "../lib/format";
import { listboxIndex } from "../lib/keyboard";
import { describeSearchError, groupByConversation, messageSearchQuery, snippetParts, type ResultGroup, type SearchResult } from "../lib/message-search";
import { trpc } from "../trpc";
import { Avatar } from "./Avatar";
import { PaperclipIcon, SearchIcon } from "./icons";
import type { Conversation, User } from "@parley/client";

interface QuickSwitcherProps {
  open: boolean;
  /** The loaded conversations, most recent activity first. */
  conversations: readonly Conversation[];
  me: User;
  onClose(): void;
  onChoose(conversation: Conversation): void;
  /** Opens a found message in its conversation. */
  onChooseMessage(result: SearchResult): void;
  /** What the text box holds when it opens (a conversation's "Files": `has:file in:<id>`). */
  initialQuery?: string;
}

/** Conversations shown with nothing typed: typing narrows them. */
const SHOWN = 20;
/** Conversations shown above the messages found once something is typed. */
const SHOWN_WITH_MESSAGES = 5;
/** Messages asked for at a time ("More results" asks for the next ones). */
const RESULTS_PAGE = 20;
/** A pause in typing before asking the server; a request for text typed since is cancelled. */
const SEARCH_DEBOUNCE_MS = 250;

/**
 * Ctrl/Cmd+K (or the search button): jump to a conversation by typing part of its name, or to a
 * message with the words typed. A combobox over one listbox (the ARIA pattern): focus stays in the
 * text box, Up and Down move the active option (aria-activedescendant) through the conversations,
 * then the messages found (grouped by conversation), then "More results"; Enter opens it, Escape closes.
 */
export function QuickSwitcher({ open, ...rest }: QuickSwitcherProps) {
  const dialog = useModalDialog(open, rest.onClose);
  // Closed first, so the focus it gives back does not land after the composer has taken it.
  const close = () => dialog.ref.current?.close();
  const choose = (conversation: Conversation) => {
    close();
    rest.onChoose(conversation);
  };
  const chooseMessage = (result: SearchResult) => {
    close();
    rest.onChooseMessage(result);
  };
  return (
    <dialog {...dialog} className="dialog dialog--switcher" aria-label="Search conversations and messages">
      {open && <SwitcherForm {...rest} onChoose={choose} onChooseMessage={chooseMessage} />}
    </dialog>
  );
}

type Option = { kind: "conversation"; conversation: Conversation } | { kind: "message"; result: SearchResult } | { kind: "more" };

function useMessageSearch(typed: string) {
  const query = useDebounced(messageSearchQuery(typed) ?? "", SEARCH_DEBOUNCE_MS);
  const search = trpc.message.search.useInfiniteQuery(
    { query, limit: RESULTS_PAGE },
    {
      enabled: query !== "",
      getNextPageParam: (page) => page.nextCursor,
      // Results are a moment's answer: asked afresh each time, the previous ones shown meanwhile.
      staleTime: 0,
      placeholderData: keepPreviousData,
      // Said at once (a rate limit included), with a button to try again.
      retry: false,
      // The request for what was typed before is cancelled once it is no longer wanted.
      trpc: { abortOnUnmount: true },
    },
  );
  const results = useMemo(() => search.data?.pages.flatMap((page) => page.items) ?? [], [search.data]);
  // Still typing, or the answer is for what was typed before.
  const settled = query === (messageSearchQuery(typed) ?? "") && !search.isPlaceholderData;
  return { query, search, results, settled };
}

function SwitcherForm({ conversations, me, onChoose, onChooseMessage, initialQuery = "" }: Omit<QuickSwitcherProps, "open" | "onClose">) {
  const [typed, setTyped] = useState(initialQuery);
  const [active, setActive] = useState(0);
  const id = useId();
  const { query, search, results, settled } = useMessageSearch(typed);
  const searching = messageSearchQuery(typed) !== null;
  const matches = useMemo(() => switcherMatches(conversations, typed, me.id, searching ? SHOWN_WITH_MESSAGES : SHOWN), [conversations, typed, me.id, searching]);
  const groups = useMemo(() => (searching ? groupByConversation(results) : []), [searching, results]);
  const listed = useMemo(() => new Map(conversations.map((c) => [c.id, c])), [conversations]);

  const options = useMemo(() => {
    const all: Option[] = matches.map((conversation) => ({ kind: "conversation", conversation }));
    for (const group of groups) for (const result of group.results) all.push({ kind: "message", result });
    if (searching && search.hasNextPage) all.push({ kind: "more" });
    return all;
  }, [matches, groups, searching, search.hasNextPage]);
  const activeIndex = Math.min(active, options.length - 1);
  const optionId = (index: number) => `${id}-option-${index}`;

  const pick = (option: Option | undefined) => {
    if (option?.kind === "conversation") onChoose(option.conversation);
    if (option?.kind === "message") onChooseMessage(option.result);
    if (option?.kind === "more" && !search.isFetchingNextPage) void search.fetchNextPage();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      pick(options[activeIndex]);
      return;
    }
    const next = listboxIndex(event.key, activeIndex, options.length);
    if (next === null) return;
    event.preventDefault();
    setActive(next);
    document.getElementById(optionId(next))?.scrollIntoView({ block: "nearest" });
  };

  const optionProps = (index: number) => ({
    id: optionId(index),
    role: "option",
    "aria-selected": index === activeIndex,
    onMouseMove: () => setActive(index),
    // Focus stays in the text box (a click on "More results" would otherwise take it away).
    onMouseDown: (event: MouseEvent) => event.preventDefault(),
    onClick: () => pick(options[index]),
  });
  const activeClass = (index: number) => (index === activeIndex ? " switcher__option--active" : "");

  let index = matches.length;
  return (
    <div className="switcher">
      <div className="search search--dialog">
        <label htmlFor={`${id}-input`} className="sr-only">
          Conversation name, or words to find in messages
        </label>
        <SearchIcon />
        <input
          id={`${id}-input`}
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls={`${id}-list`}
          aria-autocomplete="list"
          aria-describedby={`${id}-status ${id}-filters`}
          aria-activedescendant={options.length > 0 ? optionId(activeIndex) : undefined}
          placeholder="Jump to a conversation or search messages"
          autoComplete="off"
          spellCheck={false}
          maxLength={500}
          value={typed}
          onChange={(e) => {
            setTyped(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          data-initial-focus
        />
      </div>
      <div id={`${id}-list`} className="switcher__list" role="listbox" aria-label="Conversations and messages">
        {matches.length > 0 && (
          <div role="group" aria-labelledby={searching ? `${id}-conversations` : undefined} aria-label={searching ? undefined : "Conversations"}>
            {searching && (
              <div id={`${id}-conversations`} className="switcher__heading" role="presentation">
                Conversations
              </div>
            )}
            {matches.map((conversation, i) => {
              const title = conversationTitle(conversation, me.id);
              const other = conversation.isDirect ? otherMembers(conversation, me.id)[0] : undefined;
              return (
                <div key={conversation.id} {...optionProps(i)} className={`switcher__option${activeClass(i)}`} data-conversation-id={conversation.id}>
                  <Avatar id={other?.id ?? conversation.id} name={title} size="sm" group={!conversation.isDirect} />
                  <span className="switcher__title">{title}</span>
                  {other && <span className="switcher__username">@{other.username}</span>}
                </div>
              );
            })}
          </div>
        )}
        {groups.map((group) => {
          const start = index;
          index += group.results.length;
          return (
            <FoundGroup
              key={group.conversationId}
              group={group}
              listed={listed.get(group.conversationId) ?? null}
              me={me}
              headingId={`${id}-group-${group.conversationId}`}
              renderOption={(result, i, content) => (
                <div key={result.id} {...optionProps(start + i)} className={`switcher__option switcher__option--found${activeClass(start + i)}`} data-message-id={result.id}>
                  {content}
                </div>
              )}
            />
          );
        })}
        {searching && search.hasNextPage && (
          <div {...optionProps(index)} className={`switcher__option switcher__more${activeClass(index)}`}>
            {search.isFetchingNextPage ? (
              <>
                <span className="spinner" aria-hidden="true" /> Loading more results…
              </>
            ) : (
              "More results"
            )}
          </div>
        )}
      </div>
      <SearchStatus id={`${id}-status`} typed={typed} searching={searching} query={query} search={search} count={results.length} settled={settled} conversationsShown={matches.length} />
      <p className="switcher__hint" id={`${id}-filters`}>
        Narrow a message search with <code>from:username</code>, <code>in:conversation-id</code>, <code>has:file</code> (alone, it lists files) or <code>"an exact phrase"</code>.
      </p>
      <p className="switcher__hint" aria-hidden="true">
        <kbd>↑</kbd> <kbd>↓</kbd> to choose · <kbd>Enter</kbd> to open · <kbd>Esc</kbd> to close
      </p>
    </div>
  );
}

type MessageSearch = ReturnType<typeof useMessageSearch>["search"];

/** What the search is doing, said to screen readers as it changes: searching, how many found, none, or why it failed. */
function SearchStatus(props: { id: string; typed: string; searching: boolean; query: string; search: MessageSearch; count: number; settled: boolean; conversationsShown: number }) {
  const { id, typed, searching, query, search, count, settled, conversationsShown } = props;
  if (search.isError && !search.isFetching) {
    const { text, aboutQuery } = describeSearchError(search.error);
    // A query the server cannot run (only filters, say) is a hint, not an alarm.
    if (aboutQuery) {
      return (
        <p id={id} className="switcher__status" role="status">
          {text}
        </p>
      );
    }
    return (
      <div id={id} className="switcher__status switcher__status--error" role="alert">
        <span>{text}</span>
        <button type="button" className="link-button" onClick={() => void search.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  let text: ReactNode = "";
  if (!searching) text = typed.trim() && conversationsShown === 0 ? `No conversation matches “${typed.trim()}”. Type two letters or more to search messages.` : "";
  else if (!settled || search.isPending) text = (
    <>
      <span className="spinner" aria-hidden="true" /> Searching messages…
    </>
  );
  else if (count === 0) text = conversationsShown === 0 ? `No conversation or message matches “${query}”.` : `No messages match “${query}”.`;
  else text = `${count}${search.hasNextPage ? "+" : ""} ${count === 1 ? "message" : "messages"} found.`;
  return (
    <p id={id} className="switcher__status" role="status">
      {text}
    </p>
  );
}

/** One conversation's results under its name; senders and the title from the loaded list, else from conversation.get. */
function FoundGroup(props: {
  group: ResultGroup;
  listed: Conversation | null;
  me: User;
  headingId: string;
  renderOption(result: SearchResult, index: number, content: ReactNode): ReactNode;
}) {
  const { group, listed, me, headingId, renderOption } = props;
  const knowsSenders = listed !== null && group.results.every((r) => r.senderId === me.id || listed.members.some((m) => m.id === r.senderId));
  const full = trpc.conversation.get.useQuery({ conversationId: group.conversationId }, { enabled: !knowsSenders, staleTime: 5 * 60_000 });
  const conversation = full.data ?? listed;
  const members = new Map((conversation?.members ?? []).map((m) => [m.id, m]));
  const title = conversation ? conversationTitle(conversation, me.id) : "…";
  const now = new Date();
  return (
    <div role="group" aria-labelledby={headingId}>
      <div id={headingId} className="switcher__heading" role="presentation">
        {title}
      </div>
      {group.results.map((result, i) => {
        const member = members.get(result.senderId);
        const sender = result.senderId === me.id ? "You" : member ? displayName(member) : full.data ? "Former member" : "…";
        return renderOption(
          result,
          i,
          <>
            <span className="found__meta">
              <span className="found__sender">{sender}</span>
              {result.threadId && <span className="found__thread">in a thread</span>}
              <time dateTime={result.createdAt} title={formatFull(result.createdAt)}>
                {formatListTime(result.createdAt, now)}
              </time>
            </span>
            {result.snippet !== "" && (
              <span className="found__snippet">
                {snippetParts(result.snippet, result.highlights).map((part, p) => (part.highlighted ? <mark key={p}>{part.text}</mark> : part.text))}
              </span>
            )}
            {result.attachments.length > 0 && (
              <span className="found__files">
                <PaperclipIcon />
                <span className="sr-only">Files: </span>
                {result.attachments.map((a) => a.name).join(", ")}
              </span>
            )}
          </>,
        );
      })}
    </div>
  );
}
