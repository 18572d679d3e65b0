import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useRuntime } from "../app/context";
import { SendIcon } from "./icons";
import { MAX_MESSAGE_LENGTH, checkMessage, formatCount } from "@parley/client";

interface ComposerProps {
  conversationId: string;
  /** Who the message goes to, for the label. */
  recipient: string;
  autoFocus: boolean;
}

/** Removes blank lines around the text, keeping any indentation of its first line. */
function tidy(text: string): string {
  return text.replace(/^\s*\n/, "").replace(/\s+$/, "");
}

export function Composer({ conversationId, recipient, autoFocus }: ComposerProps) {
  const { drafts, sender } = useRuntime();
  const [text, setText] = useState(() => drafts.get(conversationId) ?? "");
  const textarea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const check = checkMessage(text);

  useEffect(() => {
    if (autoFocus) textarea.current?.focus();
  }, [autoFocus]);

  // Grow with the text, up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = textarea.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const change = (value: string) => {
    setText(value);
    if (value) drafts.set(conversationId, value);
    else drafts.delete(conversationId);
  };

  const send = () => {
    if (!check.sendable) return;
    sender.send(conversationId, tidy(text));
    change("");
    textarea.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is neither.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={`${id}-input`} className="sr-only">
        Message to {recipient}
      </label>
      <div className={`composer__box${check.tooLong ? " composer__box--invalid" : ""}`}>
        <textarea
          id={`${id}-input`}
          ref={textarea}
          rows={1}
          value={text}
          placeholder={`Message ${recipient}`}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          enterKeyHint="send"
          aria-invalid={check.tooLong || undefined}
          aria-describedby={`${id}-hint`}
        />
        <button type="submit" className="composer__send" disabled={!check.sendable} title="Send (Enter)">
          <SendIcon />
          <span className="sr-only">Send</span>
        </button>
      </div>
      <div className="composer__hint" id={`${id}-hint`}>
        {check.tooLong ? (
          <span className="composer__error" role="alert">
            Too long: at most {formatCount(MAX_MESSAGE_LENGTH)} characters.
          </span>
        ) : (
          <span className="composer__keys">
            <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
          </span>
        )}
        {check.counter && <span className={`composer__count${check.tooLong ? " composer__count--over" : ""}`}>{check.counter}</span>}
      </div>
    </form>
  );
}
