import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { useRuntime } from "../app/context";
import { displayName } from "../lib/conversations";
import { describeError } from "../lib/errors";
import type { Conversation, User } from "../lib/types";
import { trpc } from "../trpc";
import { Avatar } from "./Avatar";
import { CheckIcon, CloseIcon, SearchIcon } from "./icons";

interface NewConversationDialogProps {
  open: boolean;
  me: User;
  onClose(): void;
  onOpened(conversation: Conversation): void;
}

/**
 * Choose one person to open (or reopen) a direct conversation, or several and an optional title for
 * a group. A native modal <dialog>: it keeps focus inside, closes on Escape, and gives focus back.
 */
export function NewConversationDialog({ open, me, onClose, onOpened }: NewConversationDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
  }, [open]);

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="new-conversation-title" onClose={onClose}>
      {open && <NewConversationForm me={me} onCancel={onClose} onOpened={onOpened} />}
    </dialog>
  );
}

function NewConversationForm({ me, onCancel, onOpened }: { me: User; onCancel(): void; onOpened(c: Conversation): void }) {
  const runtime = useRuntime();
  const utils = trpc.useUtils();
  // Refetched each time the dialog opens: colleagues sign up all the time.
  const users = trpc.user.list.useQuery(undefined, { staleTime: 0 });
  const create = trpc.conversation.create.useMutation();
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState<string[]>([]);
  const [title, setTitle] = useState("");
  const id = useId();

  const others = useMemo(() => (users.data ?? []).filter((u) => u.id !== me.id), [users.data, me.id]);
  const needle = search.trim().toLowerCase();
  const shown = needle ? others.filter((u) => u.username.includes(needle) || u.fullName.toLowerCase().includes(needle)) : others;
  const byId = new Map(others.map((u) => [u.id, u]));
  const isGroup = selected.length > 1;

  const toggle = (userId: string) => setSelected((s) => (s.includes(userId) ? s.filter((x) => x !== userId) : [...s, userId]));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (selected.length === 0 || create.isPending) return;
    create.mutate(
      { memberIds: selected, ...(isGroup && title.trim() ? { title: title.trim() } : {}) },
      {
        onSuccess: (conversation) => {
          utils.conversation.list.setData(undefined, (list) =>
            list && !list.some((c) => c.id === conversation.id) ? [conversation, ...list] : list,
          );
          void utils.conversation.list.invalidate();
          runtime.announceConversationsChanged();
          onOpened(conversation);
        },
      },
    );
  };

  const action = selected.length === 0 ? "Choose someone" : isGroup ? `Create group of ${selected.length + 1}` : `Open chat with ${displayName(byId.get(selected[0] as string) ?? { fullName: "", username: "them" })}`;

  return (
    <form className="dialog__form" onSubmit={submit}>
      <header className="dialog__header">
        <h2 id="new-conversation-title">New conversation</h2>
        <button type="button" className="icon-button" onClick={onCancel}>
          <CloseIcon />
          <span className="sr-only">Close</span>
        </button>
      </header>
      <p className="dialog__intro">Pick one person for a direct chat, or several to start a group.</p>

      <div className="search search--dialog">
        <label htmlFor={`${id}-search`} className="sr-only">
          Search people
        </label>
        <SearchIcon />
        <input id={`${id}-search`} type="search" placeholder="Search by name or username" value={search} onChange={(e) => setSearch(e.target.value)} autoFocus />
      </div>

      {selected.length > 0 && (
        <ul className="chips" aria-label="Chosen">
          {selected.map((userId) => {
            const user = byId.get(userId);
            const name = user ? displayName(user) : "Unknown";
            return (
              <li key={userId} className="chip">
                {name}
                <button type="button" className="chip__remove" onClick={() => toggle(userId)}>
                  <CloseIcon />
                  <span className="sr-only">Remove {name}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}

      <fieldset className="people">
        <legend className="sr-only">People</legend>
        {users.isPending ? (
          <p className="people__message" role="status">
            <span className="spinner" aria-hidden="true" /> Loading people…
          </p>
        ) : users.isError ? (
          <p className="people__message" role="alert">
            {describeError(users.error)}
          </p>
        ) : others.length === 0 ? (
          <p className="people__message">Nobody else has signed up yet. Invite a colleague to Parley!</p>
        ) : shown.length === 0 ? (
          <p className="people__message">Nobody matches “{search.trim()}”.</p>
        ) : (
          <ul className="people__list">
            {shown.map((user) => {
              const checked = selected.includes(user.id);
              return (
                <li key={user.id}>
                  <label className={`person${checked ? " person--checked" : ""}`} data-username={user.username}>
                    <input type="checkbox" className="person__check" checked={checked} onChange={() => toggle(user.id)} />
                    <Avatar id={user.id} name={displayName(user)} size="sm" />
                    <span className="person__names">
                      <span className="person__name">{displayName(user)}</span>
                      <span className="person__username">@{user.username}</span>
                    </span>
                    <span className="person__tick" aria-hidden="true">
                      <CheckIcon />
                    </span>
                  </label>
                </li>
              );
            })}
          </ul>
        )}
      </fieldset>

      {isGroup && (
        <div className="field">
          <label htmlFor={`${id}-title`}>Group name (optional)</label>
          <div className="field__control">
            <input id={`${id}-title`} value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Launch planning" />
          </div>
        </div>
      )}

      {create.error && (
        <p className="notice notice--error" role="alert">
          {describeError(create.error)}
        </p>
      )}

      <footer className="dialog__footer">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button--primary" disabled={selected.length === 0 || create.isPending}>
          {create.isPending ? "Opening…" : action}
        </button>
      </footer>
    </form>
  );
}
