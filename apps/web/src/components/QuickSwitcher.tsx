import { useId, useMemo, useState, type KeyboardEvent } from "react";
import { useModalDialog } from "../app/use-modal-dialog";
import { conversationTitle, otherMembers, switcherMatches } from "../lib/conversations";
import { listboxIndex } from "../lib/keyboard";
import { Avatar } from "./Avatar";
import { SearchIcon } from "./icons";
import type { Conversation, User } from "@parley/client";

interface QuickSwitcherProps {
  open: boolean;
  /** The loaded conversations, most recent activity first. */
  conversations: readonly Conversation[];
  me: User;
  onClose(): void;
  onChoose(conversation: Conversation): void;
}

/** Options shown at once: typing narrows them. */
const SHOWN = 20;

/**
 * Ctrl/Cmd+K: jump to a conversation by typing part of its name. A combobox over a listbox (the
 * ARIA pattern): focus stays in the text box, Up and Down move the active option
 * (aria-activedescendant), Enter opens it, Escape closes.
 */
export function QuickSwitcher({ open, ...rest }: QuickSwitcherProps) {
  const dialog = useModalDialog(open, rest.onClose);
  const choose = (conversation: Conversation) => {
    // Closed first, so the focus it gives back does not land after the composer has taken it.
    dialog.ref.current?.close();
    rest.onChoose(conversation);
  };
  return (
    <dialog {...dialog} className="dialog dialog--switcher" aria-label="Jump to a conversation">
      {open && <SwitcherForm {...rest} onChoose={choose} />}
    </dialog>
  );
}

function SwitcherForm({ conversations, me, onChoose }: Omit<QuickSwitcherProps, "open" | "onClose">) {
  const [typed, setTyped] = useState("");
  const [active, setActive] = useState(0);
  const id = useId();
  const matches = useMemo(() => switcherMatches(conversations, typed, me.id, SHOWN), [conversations, typed, me.id]);
  const activeIndex = Math.min(active, matches.length - 1);
  const optionId = (index: number) => `${id}-option-${index}`;

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const chosen = matches[activeIndex];
      if (chosen) onChoose(chosen);
      return;
    }
    const next = listboxIndex(event.key, activeIndex, matches.length);
    if (next === null) return;
    event.preventDefault();
    setActive(next);
    document.getElementById(optionId(next))?.scrollIntoView({ block: "nearest" });
  };

  return (
    <div className="switcher">
      <div className="search search--dialog">
        <label htmlFor={`${id}-input`} className="sr-only">
          Conversation name
        </label>
        <SearchIcon />
        <input
          id={`${id}-input`}
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls={`${id}-list`}
          aria-autocomplete="list"
          aria-activedescendant={matches.length > 0 ? optionId(activeIndex) : undefined}
          placeholder="Jump to a conversation"
          autoComplete="off"
          spellCheck={false}
          value={typed}
          onChange={(e) => {
            setTyped(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          data-initial-focus
        />
      </div>
      <ul id={`${id}-list`} className="switcher__list" role="listbox" aria-label="Conversations">
        {matches.map((conversation, index) => {
          const title = conversationTitle(conversation, me.id);
          const other = conversation.isDirect ? otherMembers(conversation, me.id)[0] : undefined;
          return (
            <li
              key={conversation.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === activeIndex}
              className={`switcher__option${index === activeIndex ? " switcher__option--active" : ""}`}
              data-conversation-id={conversation.id}
              onMouseMove={() => setActive(index)}
              onClick={() => onChoose(conversation)}
            >
              <Avatar id={other?.id ?? conversation.id} name={title} size="sm" group={!conversation.isDirect} />
              <span className="switcher__title">{title}</span>
              {other && <span className="switcher__username">@{other.username}</span>}
            </li>
          );
        })}
      </ul>
      {matches.length === 0 && (
        <p className="people__message" role="status">
          {conversations.length === 0 ? "No conversations yet." : `No conversation matches “${typed.trim()}”.`}
        </p>
      )}
      <p className="switcher__hint" aria-hidden="true">
        <kbd>↑</kbd> <kbd>↓</kbd> to choose · <kbd>Enter</kbd> to open · <kbd>Esc</kbd> to close
      </p>
    </div>
  );
}
