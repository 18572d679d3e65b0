import { useEffect, useId, useRef } from "react";
import { conversationTitle, otherMembers } from "../lib/conversations";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";
import { ConnectionBanner } from "./Connection";
import { BackIcon } from "./icons";
import { MessageList } from "./MessageList";
import { trpc } from "../trpc";
import { describeError, isWorthRetrying, type Conversation, type User } from "@parley/client";

interface ConversationPaneProps {
  conversationId: string;
  /** Its entry in the loaded list (only the first members of a group), shown until the full one loads. */
  listed: Conversation | null;
  me: User;
  onBack(): void;
  /** Put focus in the composer as soon as it is on screen (once; then `onComposerFocused`). */
  focusComposer: boolean;
  onComposerFocused(): void;
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

export function ConversationPane({ conversationId, listed, me, onBack, focusComposer: focusRequested, onComposerFocused }: ConversationPaneProps) {
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const focusComposer = finePointer();
  // The whole member list, for senders' names; also finds a conversation not loaded in the list.
  const full = trpc.conversation.get.useQuery({ conversationId }, { staleTime: 5 * 60_000 });
  const conversation = full.data ?? listed;
  const membersComplete = full.data !== undefined;

  useEffect(() => {
    if (!focusComposer) heading.current?.focus();
  }, [conversationId, focusComposer]);

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
  const other = conversation.isDirect ? otherMembers(conversation, me.id)[0] : undefined;
  return (
    <section className="conversation" aria-labelledby={headingId} data-conversation-id={conversation.id}>
      <header className="conversation__header">
        <button type="button" className="icon-button conversation__back" onClick={onBack}>
          <BackIcon />
          <span className="sr-only">Back to conversations</span>
        </button>
        <Avatar id={other?.id ?? conversation.id} name={title} group={!conversation.isDirect} />
        <div className="conversation__heading">
          <h2 id={headingId} ref={heading} tabIndex={-1}>
            {title}
          </h2>
          <p className="conversation__subtitle">{subtitle(conversation, me)}</p>
        </div>
      </header>
      <ConnectionBanner />
      <MessageList conversation={conversation} membersComplete={membersComplete} me={me} />
      <Composer
        conversationId={conversation.id}
        recipient={title}
        autoFocus={focusComposer}
        focusRequested={focusRequested}
        onFocused={onComposerFocused}
      />
    </section>
  );
}
