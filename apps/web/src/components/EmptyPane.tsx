import { quickSwitcherKeys } from "../lib/keyboard";
import { ChatIcon, PlusIcon } from "./icons";

interface EmptyPaneProps {
  hasConversations: boolean;
  onNewConversation(): void;
  /** What just happened, said on top ("You left “Launch”."), or null. */
  notice: string | null;
}

export function EmptyPane({ hasConversations, onNewConversation, notice }: EmptyPaneProps) {
  return (
    <div className="empty-pane">
      <p className="sr-only" role="status">
        {notice}
      </p>
      {notice && (
        <p className="notice empty-pane__notice" aria-hidden="true">
          {notice}
        </p>
      )}
      <div className="empty-pane__art" aria-hidden="true">
        <ChatIcon />
      </div>
      <h2>{hasConversations ? "Pick a conversation" : "Start your first conversation"}</h2>
      <p>
        {hasConversations ? (
          <>
            Choose one from the list, or start something new. <kbd>{quickSwitcherKeys(navigator.userAgent)}</kbd> jumps to a conversation by name or finds a message by its words.
          </>
        ) : (
          "Find a colleague and say hello. Messages arrive instantly."
        )}
      </p>
      <button type="button" className="button button--primary" onClick={onNewConversation}>
        <PlusIcon /> New conversation
      </button>
    </div>
  );
}
