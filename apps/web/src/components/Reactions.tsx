// Reactions on a message: one button per emoji with its count, pressed when the reader is among
// those who reacted (one click toggles it), naming who reacted on hover and focus; and a small picker
// with the common ones first. What changes arrives through the feed (message.updated).
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { trpc } from "../trpc";
import { describeError, type Message } from "@parley/client";

/** Offered first, one click away. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"] as const;
/** The rest of the small picker. */
const MORE_REACTIONS = [
  "🙏", "🔥", "💯", "👏", "🙌", "🤔", "😅", "😍", "🥳", "😎", "🤝", "👋",
  "👎", "❌", "⚠️", "💡", "🚀", "⭐", "☕", "🍕", "🐛", "📌", "⏰", "🤷",
] as const;

/** How a list of people reads: "Ada", "Ada and Ben", "Ada, Ben and Cy". */
export function namesText(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1) ?? ""}`;
}

function useReact(message: Message) {
  const react = trpc.message.react.useMutation();
  const toggle = (emoji: string, on: boolean) => react.mutate({ messageId: message.id, emoji, on });
  return { toggle, error: react.isError ? describeError(react.error) : null };
}

interface ReactionBarProps {
  message: Message;
  myId: string;
  /** A member's name as shown ("You" for the reader). */
  nameOf(userId: string): string;
}

/** The message's reactions, each a toggle. Nothing when it has none. */
export function ReactionBar({ message, myId, nameOf }: ReactionBarProps) {
  const { toggle, error } = useReact(message);
  const id = useId();
  if (message.reactions.length === 0 && !error) return null;
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {message.reactions.map((reaction, index) => {
        const mine = reaction.userIds.includes(myId);
        const who = namesText(reaction.userIds.map(nameOf));
        return (
          <span className="reaction-wrap" key={reaction.emoji}>
            <button
              type="button"
              className={`reaction${mine ? " reaction--mine" : ""}`}
              aria-pressed={mine}
              aria-label={`${reaction.emoji} ${reaction.count}`}
              aria-describedby={`${id}-${index}`}
              data-emoji={reaction.emoji}
              onClick={() => toggle(reaction.emoji, !mine)}
            >
              <span aria-hidden="true">{reaction.emoji}</span> <span aria-hidden="true">{reaction.count}</span>
            </button>
            <span className="reaction__who" role="tooltip" id={`${id}-${index}`}>
              {`${who} reacted with ${reaction.emoji}`}
            </span>
          </span>
        );
      })}
      {error && (
        <span className="reactions__error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

interface ReactionPickerProps {
  message: Message;
  myId: string;
}

/** "React": a button that opens the quick set and a few more; Escape closes it, focus goes back. */
export function ReactionPicker({ message, myId }: ReactionPickerProps) {
  const [open, setOpen] = useState(false);
  const { toggle, error } = useReact(message);
  const panel = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const id = useId();

  useEffect(() => {
    if (open) panel.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [open]);

  // Closes when focus or a click goes elsewhere.
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !trigger.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  };

  const pick = (emoji: string) => {
    const mine = message.reactions.some((r) => r.emoji === emoji && r.userIds.includes(myId));
    toggle(emoji, !mine);
    close(true);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
      return;
    }
    // Arrow keys move between the emoji, as in a grid read row by row.
    const buttons = [...(panel.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[event.key];
    if (at === -1 || step === undefined) return;
    event.preventDefault();
    buttons[Math.min(buttons.length - 1, Math.max(0, at + step))]?.focus();
  };

  const emojiButton = (emoji: string) => {
    const mine = message.reactions.some((r) => r.emoji === emoji && r.userIds.includes(myId));
    return (
      <button key={emoji} type="button" className="picker__emoji" aria-pressed={mine} onClick={() => pick(emoji)}>
        {emoji}
      </button>
    );
  };

  return (
    <span className="picker-wrap">
      <button
        ref={trigger}
        type="button"
        className="msg__action msg__action--react"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        React<span className="sr-only"> to message</span>
      </button>
      {open && (
        <div
          ref={panel}
          id={id}
          className="picker"
          role="group"
          aria-label="Add a reaction"
          onKeyDown={onKeyDown}
          onBlur={(event) => {
            if (!event.currentTarget.contains(event.relatedTarget as Node | null) && event.relatedTarget !== trigger.current) close(false);
          }}
        >
          <div className="picker__row">{QUICK_REACTIONS.map(emojiButton)}</div>
          <div className="picker__row picker__row--more">{MORE_REACTIONS.map(emojiButton)}</div>
        </div>
      )}
      {error && (
        <span className="reactions__error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
