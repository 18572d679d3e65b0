import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useRuntime } from "../app/context";
import { useMediaQuery } from "../app/use-media-query";
import { TOUCH_ONLY_QUERY } from "../lib/keyboard";
import { SendIcon } from "./icons";
import { insertMention, matchMembers, mentionQueryAt, type MentionQuery } from "../lib/mention-query";
import { MAX_MESSAGE_LENGTH, checkMessage, formatCount, type Member } from "@parley/client";

interface ComposerProps {
  conversationId: string;
  /** Who the message goes to, for the label. */
  recipient: string;
  autoFocus: boolean;
  /** Take focus now (once), whatever the device: the person just chose this conversation to write in. */
  focusRequested: boolean;
  onFocused(): void;
  /** Who else is typing here ("Lena is typing…"), or null. */
  typingText: string | null;
  /** Up in the empty composer: edit one's last message. */
  onEditLast?(): void;
  /** A thread's composer: replies to this root message. */
  threadId?: string;
  /** The textarea's id (the main composer's is COMPOSER_ID, the skip link's target). */
  inputId?: string;
  /** Who `@` offers to mention (the conversation's members), and the reader, who is left out. */
  members?: readonly Member[];
  myId?: string;
}

/** The composer's id: the skip link's target (there is one composer on screen at most). */
export const COMPOSER_ID = "composer-input";

/** Removes blank lines around the text, keeping any indentation of its first line. */
function tidy(text: string): string {
  return text.replace(/^\s*\n/, "").replace(/\s+$/, "");
}

export function Composer(props: ComposerProps) {
  const { conversationId, recipient, autoFocus, focusRequested, onFocused, typingText, onEditLast, threadId, inputId = COMPOSER_ID, members = [], myId = "" } = props;
  const { drafts, sender, typing } = useRuntime();
  // A thread keeps its own draft.
  const draftKey = threadId ? `${conversationId}/thread/${threadId}` : conversationId;
  const [text, setText] = useState(() => drafts.get(draftKey) ?? "");
  const textarea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const check = checkMessage(text);
  const touchOnly = useMediaQuery(TOUCH_ONLY_QUERY);

  // The @ autocomplete: the mention being typed at the caret, the people it matches, the one
  // highlighted. Escape dismisses it for that @.
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const options = useMemo(() => (mention ? matchMembers(members, mention.query, myId) : []), [mention, members, myId]);
  const suggesting = mention !== null && mention.start !== dismissedAt && options.length > 0;
  const optionId = (index: number) => `${id}-mention-${index}`;
  const followCaret = (el: HTMLTextAreaElement) => {
    const next = el.selectionStart === el.selectionEnd ? mentionQueryAt(el.value, el.selectionStart) : null;
    setMention((current) => (current?.start === next?.start && current?.query === next?.query ? current : next));
    // The dismissed @ is gone: a new one opens the list again, even in the same place.
    if (next === null) setDismissedAt(null);
    if (next?.start !== mention?.start || next?.query !== mention?.query) setActive(0);
  };
  const choose = (member: Member) => {
    const el = textarea.current;
    if (!el || !mention) return;
    const next = insertMention(text, mention, el.selectionStart, member.username);
    edit(next.text);
    setMention(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };

  useEffect(() => {
    if (autoFocus) textarea.current?.focus();
  }, [autoFocus]);

  useEffect(() => {
    if (!focusRequested) return;
    textarea.current?.focus();
    onFocused();
  }, [focusRequested, onFocused]);

  // Grow with the text, up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = textarea.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const change = (value: string) => {
    setText(value);
    if (value) drafts.set(draftKey, value);
    else drafts.delete(draftKey);
  };

  // What the person types (not a draft put back) tells the others they are typing.
  const edit = (value: string) => {
    change(value);
    typing.typed(conversationId, value);
  };

  const send = () => {
    if (!check.sendable) return;
    sender.send(conversationId, tidy(text), threadId ? { threadId } : {});
    typing.stopped(conversationId);
    change("");
    textarea.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggesting) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setActive((a) => (a + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.nativeEvent.isComposing) {
        event.preventDefault();
        const chosen = options[Math.min(active, options.length - 1)];
        if (chosen) choose(chosen);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        setDismissedAt(mention.start);
        return;
      }
    }
    if (event.key === "ArrowUp" && text === "" && onEditLast && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      onEditLast();
      return;
    }
    // Enter sends and Shift+Enter is a new line; on a touch-only device Enter is a new line and the
    // Send button sends. Ctrl/Cmd+Enter sends everywhere. Enter that ends an IME composition is neither.
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    if (touchOnly && !event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    send();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      {suggesting && (
        <ul className="mention-list" id={`${id}-mentions`} role="listbox" aria-label="People to mention">
          {options.map((member, index) => (
            <li
              key={member.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === Math.min(active, options.length - 1)}
              className="mention-list__option"
              // Chosen on mouse down, so the composer keeps focus.
              onMouseDown={(event) => {
                event.preventDefault();
                choose(member);
              }}
            >
              <span>{member.fullName}</span> <span className="mention-list__username">@{member.username}</span>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor={inputId} className="sr-only">
        {threadId ? `Reply in thread` : `Message to ${recipient}`}
      </label>
      <div className={`composer__box${check.tooLong ? " composer__box--invalid" : ""}`}>
        <textarea
          id={inputId}
          ref={textarea}
          rows={1}
          value={text}
          placeholder={threadId ? "Reply…" : `Message ${recipient}`}
          onChange={(e) => {
            edit(e.target.value);
            followCaret(e.target);
          }}
          onSelect={(e) => followCaret(e.currentTarget)}
          onKeyDown={onKeyDown}
          aria-autocomplete="list"
          aria-controls={suggesting ? `${id}-mentions` : undefined}
          aria-activedescendant={suggesting ? optionId(Math.min(active, options.length - 1)) : undefined}
          enterKeyHint={touchOnly ? "enter" : "send"}
          aria-invalid={check.tooLong || undefined}
          aria-describedby={`${id}-hint`}
        />
        <button type="submit" className="composer__send" disabled={!check.sendable} title={touchOnly ? "Send" : "Send (Enter)"}>
          <SendIcon />
          <span className="sr-only">Send</span>
        </button>
      </div>
      <div className="composer__hint">
        {/* Always there, so that screen readers hear who starts typing; it replaces the key hint while shown. */}
        <span className="composer__typing" role="status">
          {typingText}
        </span>
        <span id={`${id}-hint`} className="composer__hint-text">
          {check.tooLong ? (
            <span className="composer__error" role="alert">
              Too long: at most {formatCount(MAX_MESSAGE_LENGTH)} characters.
            </span>
          ) : touchOnly || typingText ? null : (
            <span className="composer__keys">
              <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line{onEditLast && (
                <>
                  {" "}
                  · <kbd>↑</kbd> to edit your last message
                </>
              )}
            </span>
          )}
        </span>
        {check.counter && <span className={`composer__count${check.tooLong ? " composer__count--over" : ""}`}>{check.counter}</span>}
      </div>
    </form>
  );
}
