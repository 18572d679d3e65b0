import { useEffect, useId, useRef } from "react";
import { conversationTitle, displayName, otherMembers } from "../lib/conversations";
import type { Conversation, User } from "../lib/types";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";
import { ConnectionBanner } from "./Connection";
import { BackIcon } from "./icons";
import { MessageList } from "./MessageList";

interface ConversationPaneProps {
  conversationId: string;
  conversation: Conversation | null;
  listLoading: boolean;
  me: User;
  onBack(): void;
}

/** On touch screens, focusing the composer would pop the keyboard up over the conversation. */
const finePointer = () => window.matchMedia("(pointer: fine)").matches;

function subtitle(conversation: Conversation, me: User): string {
  const others = otherMembers(conversation, me.id);
  if (conversation.isDirect) return others[0] ? `@${others[0].username}` : "";
  const names = others.map((m) => displayName(m).split(" ")[0]);
  return `You, ${names.join(", ")}`;
}

export function ConversationPane({ conversationId, conversation, listLoading, me, onBack }: ConversationPaneProps) {
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const focusComposer = finePointer();

  useEffect(() => {
    if (!focusComposer) heading.current?.focus();
  }, [conversationId, focusComposer]);

  if (!conversation) {
    return (
      <section className="conversation conversation--missing" aria-live="polite">
        <header className="conversation__header">
          <button type="button" className="icon-button conversation__back" onClick={onBack}>
            <BackIcon />
            <span className="sr-only">Back to conversations</span>
          </button>
        </header>
        <div className="empty-pane">
          {listLoading ? (
            <p role="status">
              <span className="spinner" aria-hidden="true" /> Loading…
            </p>
          ) : (
            <>
              <h2>Conversation not found</h2>
              <p>It may not exist, or you are not a member of it.</p>
              <a className="button" href="#/">
                Back to conversations
              </a>
            </>
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
      <MessageList conversation={conversation} me={me} />
      <Composer conversationId={conversation.id} recipient={title} autoFocus={focusComposer} />
    </section>
  );
}
