// The conversation's notification level (conversation.setNotify) in a small menu in its header:
// all (direct messages and mentions notify), mentions only, or muted; and, while the browser has not
// been asked, the way to let Parley show notifications at all. The level comes back through the feed
// (a conversation.updated to the reader's own tabs), so every tab shows the same.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { notificationsSupported } from "../app/use-browser-notifications";
import { trpc } from "../trpc";
import { describeError, type Conversation } from "@parley/client";

type Level = Conversation["notify"];

const LEVELS: { level: Level; label: string; hint: string }[] = [
  { level: "all", label: "All", hint: "Direct messages and mentions notify you" },
  { level: "mentions", label: "Mentions only", hint: "Only messages that mention you" },
  { level: "none", label: "Muted", hint: "Nothing notifies you; not counted in the tab title" },
];

export function NotifyMenu({ conversationId, level }: { conversationId: string; level: Level }) {
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(() => (notificationsSupported() ? Notification.permission : "denied"));
  const setNotify = trpc.conversation.setNotify.useMutation();
  const menu = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const id = useId();

  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>('[aria-checked="true"]')?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !trigger.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };

  const choose = (next: Level) => {
    if (next !== level) setNotify.mutate({ conversationId, level: next });
    close();
  };

  const askPermission = () => {
    void Notification.requestPermission().then(setPermission);
    close();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : items.length - 1;
      items[(at + step) % items.length]?.focus();
    } else if (event.key === "Tab") {
      setOpen(false);
    }
  };

  const current = LEVELS.find((l) => l.level === level) ?? LEVELS[0];
  return (
    <div className="notify">
      <button
        ref={trigger}
        type="button"
        className={`button button--quiet notify__button${level === "none" ? " notify__button--muted" : ""}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        {level === "none" ? "Muted" : level === "mentions" ? "@ only" : "Notify"}
        <span className="sr-only">, notifications: {current?.label}</span>
      </button>
      {open && (
        <div ref={menu} id={id} className="notify__menu" role="menu" aria-label="Notifications" onKeyDown={onKeyDown}>
          {LEVELS.map(({ level: option, label, hint }) => (
            <button key={option} type="button" role="menuitemradio" aria-checked={option === level} className="notify__item" onClick={() => choose(option)}>
              <span className="notify__label">{label}</span>
              <span className="notify__hint">{hint}</span>
            </button>
          ))}
          {permission === "default" && (
            <button type="button" role="menuitem" className="notify__item notify__item--permission" onClick={askPermission}>
              <span className="notify__label">Turn on desktop notifications</span>
              <span className="notify__hint">Your browser asks you once</span>
            </button>
          )}
          {permission === "denied" && notificationsSupported() && <p className="notify__note">Notifications are blocked in this browser’s settings.</p>}
        </div>
      )}
      {setNotify.isError && (
        <p className="notify__error" role="alert">
          {describeError(setNotify.error)}
        </p>
      )}
    </div>
  );
}
