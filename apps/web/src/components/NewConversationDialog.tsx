import { useCallback, useId, useState, type FormEvent } from "react";
import { useRuntime } from "../app/context";
import { useModalDialog } from "../app/use-modal-dialog";
import { CONVERSATION_LIST_INPUT, displayName, nameWithUsername } from "../lib/conversations";
import { trpc } from "../trpc";
import { Avatar } from "./Avatar";
import { CheckIcon, CloseIcon, SearchIcon } from "./icons";
import { searchStatus, usePeopleSearch } from "./people-search";
import { describeError, type Conversation, type User } from "@parley/client";

interface NewConversationDialogProps {
  open: boolean;
  me: User;
  onClose(): void;
  onOpened(conversation: Conversation): void;
}

/**
 * Choose one person to open (or reopen) a direct conversation, or several and an optional title for
 * a group. A native modal <dialog> (useModalDialog) that opens with focus in the search box.
 */
export function NewConversationDialog({ open, me, onClose, onOpened }: NewConversationDialogProps) {
  const dialog = useModalDialog(open, onClose);

  // Closed here before the conversation opens, so that the focus the dialog gives back (to "+")
  // is given back first, and the conversation's composer can take it after.
  const opened = (conversation: Conversation) => {
    dialog.ref.current?.close();
    onOpened(conversation);
  };

  return (
    <dialog {...dialog} className="dialog" aria-labelledby="new-conversation-title">
      {open && <NewConversationForm me={me} onCancel={onClose} onOpened={opened} />}
    </dialog>
  );
}

/** People shown for what has been typed; typing more narrows it. */
const SEARCH_LIMIT = 20;

function NewConversationForm({ me, onCancel, onOpened }: { me: User; onCancel(): void; onOpened(c: Conversation): void }) {
  const runtime = useRuntime();
  const utils = trpc.useUtils();
  const [search, setSearch] = useState("");
  // The caller may be in the answer, and is left out here.
  const leaveOut = useCallback((user: User) => user.id === me.id, [me.id]);
  const { query, users, shown } = usePeopleSearch(search, { limit: SEARCH_LIMIT, leaveOut, leftOutAtMost: 1 });
  const create = trpc.conversation.create.useMutation();
  const [selected, setSelected] = useState<User[]>([]);
  const [title, setTitle] = useState("");
  const id = useId();

  const isGroup = selected.length > 1;

  const toggle = (user: User) => setSelected((s) => (s.some((x) => x.id === user.id) ? s.filter((x) => x.id !== user.id) : [...s, user]));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (selected.length === 0 || create.isPending) return;
    create.mutate(
      { memberIds: selected.map((u) => u.id), ...(isGroup && title.trim() ? { title: title.trim() } : {}) },
      {
        onSuccess: (conversation) => {
          utils.conversation.list.setInfiniteData(CONVERSATION_LIST_INPUT, (data) => {
            if (!data || data.pages.some((page) => page.some((c) => c.id === conversation.id))) return data;
            const [first = [], ...rest] = data.pages;
            return { ...data, pages: [[conversation, ...first], ...rest] };
          });
          void utils.conversation.list.invalidate();
          runtime.announceConversationsChanged();
          onOpened(conversation);
        },
      },
    );
  };

  const action = selected.length === 0 ? "Choose someone" : isGroup ? `Create group of ${selected.length + 1}` : `Open chat with ${nameWithUsername(selected[0] as User)}`;

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
        <input id={`${id}-search`} type="search" placeholder="Search by name or username" value={search} onChange={(e) => setSearch(e.target.value)} data-initial-focus />
      </div>

      {selected.length > 0 && (
        <ul className="chips" aria-label="Chosen">
          {selected.map((user) => {
            const name = nameWithUsername(user);
            return (
              <li key={user.id} className="chip">
                {name}
                <button type="button" className="chip__remove" onClick={() => toggle(user)}>
                  <CloseIcon />
                  <span className="sr-only">Remove {name}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}

      <fieldset className="people" aria-busy={users.isFetching || undefined}>
        <legend className="sr-only">People</legend>
        {query.length === 0 ? (
          <p className="people__message">Type a name or username to find someone.</p>
        ) : (
          (searchStatus(users) ??
          (shown.length === 0 ? (
            <p className="people__message">Nobody matches “{query}”.</p>
          ) : (
            <ul className="people__list">
              {shown.map((user) => {
                const checked = selected.some((x) => x.id === user.id);
                return (
                  <li key={user.id}>
                    <label className={`person${checked ? " person--checked" : ""}`} data-username={user.username}>
                      <input type="checkbox" className="person__check" checked={checked} onChange={() => toggle(user)} />
                      <Avatar id={user.id} name={displayName(user)} size="sm" />
                      <span className="person__names">
                        <span className="person__name">{displayName(user)}</span>
                        <span className="person__username">
                          @{user.username}
                          {user.deactivated && " · deactivated"}
                        </span>
                      </span>
                      <span className="person__tick" aria-hidden="true">
                        <CheckIcon />
                      </span>
                    </label>
                  </li>
                );
              })}
            </ul>
          )))
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
