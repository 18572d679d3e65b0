import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { useChat, useRuntime } from "../app/context";
import { useModalDialog } from "../app/use-modal-dialog";
import { conversationTitle, displayName, nameWithUsername } from "../lib/conversations";
import { presenceLabel } from "../lib/presence";
import { trpc } from "../trpc";
import { Avatar } from "./Avatar";
import { CloseIcon, SearchIcon } from "./icons";
import { searchStatus, usePeopleSearch } from "./people-search";
import { PRESENCE_QUERY_MAX } from "@parley/api/limits";
import { describeError, type Conversation, type Member, type User } from "@parley/client";

interface MembersDialogProps {
  open: boolean;
  conversation: Conversation;
  /** Whether `conversation.members` is everyone (conversation.get), not a listed group's first few. */
  membersComplete: boolean;
  me: User;
  onClose(): void;
  /** Leaves the group (conversation.leave) and shows what is next; rejects with the server's error. */
  onLeave(title: string): Promise<void>;
}

/**
 * Who is in a conversation, with their role and presence; for a group, what the contract lets the
 * reader change: any member adds people and leaves, owners rename and remove members. Changes made
 * elsewhere show as they happen (the conversation follows the feed, runtime.ts).
 */
export function MembersDialog({ open, conversation, membersComplete, me, onClose, onLeave }: MembersDialogProps) {
  const dialog = useModalDialog(open, onClose);
  const headingId = useId();
  return (
    <dialog {...dialog} className="dialog dialog--members" aria-labelledby={headingId}>
      {open && (
        <MembersPanel
          headingId={headingId}
          conversation={conversation}
          membersComplete={membersComplete}
          me={me}
          onClose={onClose}
          onLeave={onLeave}
        />
      )}
    </dialog>
  );
}

/** People offered for what has been typed into "Add people". */
const SEARCH_LIMIT = 10;

interface MembersPanelProps extends Omit<MembersDialogProps, "open"> {
  headingId: string;
}

function MembersPanel({ headingId, conversation, membersComplete, me, onClose, onLeave }: MembersPanelProps) {
  const utils = trpc.useUtils();
  const { chat } = useRuntime();
  const id = useId();
  const conversationId = conversation.id;
  const isGroup = !conversation.isDirect;
  const title = conversationTitle(conversation, me.id);
  const mine = conversation.members.find((m) => m.id === me.id);
  const isOwner = mine?.role === "owner";

  // One place for what the server said no to, and one for what went right (read out politely).
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const changed = (result: Conversation, message: string) => {
    utils.conversation.get.setData({ conversationId }, result);
    setError(null);
    setDone(message);
  };
  const failed = (cause: unknown) => {
    setDone("");
    setError(cause);
  };

  const rename = trpc.conversation.rename.useMutation();
  const remove = trpc.conversation.removeMember.useMutation();
  const add = trpc.conversation.addMembers.useMutation();

  // Statuses the store does not know yet: members of a group beyond the first twenty listed.
  const presence = useChat((s) => s.presence);
  const unknownIds = useMemo(
    () => conversation.members.filter((m) => m.id !== me.id && !presence.has(m.id)).map((m) => m.id).slice(0, PRESENCE_QUERY_MAX),
    [conversation.members, presence, me.id],
  );
  const statuses = trpc.user.presence.useQuery({ userIds: unknownIds }, { enabled: unknownIds.length > 0, staleTime: Infinity });
  useEffect(() => {
    if (statuses.data) chat.setPresence(statuses.data);
  }, [statuses.data, chat]);

  // The field shows the current name (a rename elsewhere shows here too) until the owner edits it.
  const [edited, setEdited] = useState<string | null>(null);
  const name = edited ?? conversation.title ?? "";
  const submitRename = (event: FormEvent) => {
    event.preventDefault();
    if (rename.isPending) return;
    rename.mutate(
      { conversationId, title: name.trim() },
      {
        onSuccess: (result) => {
          setEdited(null);
          changed(result, result.title ? `Renamed to “${result.title}”.` : "The group name was cleared.");
        },
        onError: failed,
      },
    );
  };

  // The Remove button goes with its row: focus stays in the list rather than falling out of the dialog.
  const memberList = useRef<HTMLUListElement>(null);
  const removeMember = (member: Member) => {
    remove.mutate(
      { conversationId, userId: member.id },
      {
        onSuccess: (result) => {
          changed(result, `${nameWithUsername(member)} was removed.`);
          memberList.current?.focus();
        },
        onError: failed,
      },
    );
  };

  const addPerson = (user: User, added: () => void) => {
    add.mutate(
      { conversationId, userIds: [user.id] },
      {
        onSuccess: (result) => {
          changed(result, `${nameWithUsername(user)} was added.`);
          added();
        },
        onError: failed,
      },
    );
  };

  const [confirmLeave, setConfirmLeave] = useState(false);
  // Not a mutation hook: the call must finish (and the app move on) even if this panel is gone by then.
  const [leaving, setLeaving] = useState(false);
  const leaveGroup = () => {
    setLeaving(true);
    onLeave(title).catch((cause: unknown) => {
      setLeaving(false);
      failed(cause);
    });
  };

  const owners = conversation.members.filter((m) => m.role === "owner").length;
  // Owners first, then everyone in the order they joined.
  const listed = useMemo(() => [...conversation.members].sort((a, b) => Number(b.role === "owner") - Number(a.role === "owner")), [conversation.members]);

  return (
    <div className="dialog__form members">
      <header className="dialog__header">
        <h2 id={headingId}>{isGroup ? "Members" : "People"}</h2>
        <button type="button" className="icon-button" onClick={onClose}>
          <CloseIcon />
          <span className="sr-only">Close</span>
        </button>
      </header>
      <p className="dialog__intro">
        {isGroup
          ? `${conversation.memberCount} ${conversation.memberCount === 1 ? "member" : "members"} of “${title}”.${isOwner ? "" : " Owners can rename the group and remove members."}`
          : "A direct conversation is always between these two people."}
      </p>

      {error !== null && (
        <p className="notice notice--error" role="alert">
          {describeError(error)}
        </p>
      )}
      <p className="sr-only" role="status">
        {done}
      </p>

      <div className="members__body">
        {isGroup && isOwner && (
          <form className="members__rename" onSubmit={submitRename}>
            <div className="field">
              <label htmlFor={`${id}-name`}>Group name</label>
              <div className="field__control members__rename-row">
                <input id={`${id}-name`} value={name} maxLength={100} onChange={(e) => setEdited(e.target.value)} placeholder="No name: the members’ names are shown" />
                <button type="submit" className="button" disabled={rename.isPending || name.trim() === (conversation.title ?? "")}>
                  {rename.isPending ? "Saving…" : "Rename"}
                </button>
              </div>
            </div>
          </form>
        )}

        <ul ref={memberList} tabIndex={-1} className="member-list" aria-label="Members" aria-busy={!membersComplete || undefined}>
          {listed.map((member) => {
            const isMe = member.id === me.id;
            const status = isMe ? undefined : presence.get(member.id);
            const statusText = presenceLabel(status);
            const canRemove = isGroup && isOwner && !isMe;
            return (
              <li key={member.id} className="member" data-username={member.username}>
                <Avatar id={member.id} name={displayName(member)} size="sm" presence={status} />
                <span className="member__names">
                  <span className="member__name">
                    {displayName(member)}
                    {isMe && <span className="member__you"> (you)</span>}
                  </span>
                  <span className="member__username">
                    @{member.username}
                    {statusText && <span className={`member__status member__status--${status}`}> · {statusText}</span>}
                  </span>
                </span>
                {member.deactivated && <span className="tag tag--deactivated">Deactivated</span>}
                {isGroup && member.role === "owner" && <span className="role-badge">Owner</span>}
                {canRemove && (
                  <button type="button" className="button button--quiet member__remove" disabled={remove.isPending} onClick={() => removeMember(member)}>
                    Remove<span className="sr-only"> {nameWithUsername(member)}</span>
                  </button>
                )}
              </li>
            );
          })}
          {!membersComplete && (
            <li className="member member--loading" role="status">
              <span className="spinner" aria-hidden="true" /> Loading all members…
            </li>
          )}
        </ul>

        {isGroup && <AddPeople members={conversation.members} busy={add.isPending} onAdd={addPerson} />}
      </div>

      {isGroup && (
        <footer className="dialog__footer members__footer">
          {confirmLeave ? (
            <div className="members__confirm" role="group" aria-labelledby={`${id}-leave`}>
              <p id={`${id}-leave`}>
                Leave “{title}”? You will no longer see its messages
                {isOwner && owners === 1 && conversation.memberCount > 1 ? "; the longest-standing member becomes its owner." : "."}
              </p>
              <div className="members__confirm-actions">
                <button type="button" className="button" onClick={() => setConfirmLeave(false)} autoFocus>
                  Stay
                </button>
                <button type="button" className="button button--danger" disabled={leaving} onClick={leaveGroup}>
                  {leaving ? "Leaving…" : "Leave group"}
                </button>
              </div>
            </div>
          ) : (
            <button type="button" className="button button--danger-quiet" onClick={() => setConfirmLeave(true)}>
              Leave group…
            </button>
          )}
        </footer>
      )}
    </div>
  );
}

/** Finds people to add with user.search (a few at a time, never the whole directory). */
interface AddPeopleProps {
  members: readonly Member[];
  busy: boolean;
  /** Adds the user; `added` runs once they are in. */
  onAdd(user: User, added: () => void): void;
}

function AddPeople({ members, busy, onAdd }: AddPeopleProps) {
  const id = useId();
  const [search, setSearch] = useState("");
  const input = useRef<HTMLInputElement>(null);
  // The results (and the Add button pressed) go: back to the search box, ready for the next person.
  const added = () => {
    setSearch("");
    input.current?.focus();
  };
  const memberIds = useMemo(() => new Set(members.map((m) => m.id)), [members]);
  const leaveOut = useCallback((user: User) => memberIds.has(user.id), [memberIds]);
  // Members are left out of what the server answers: ask for a few more.
  const { query, users, shown } = usePeopleSearch(search, { limit: SEARCH_LIMIT, leaveOut, leftOutAtMost: Math.min(members.length, 40) });

  return (
    <section className="members__add" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Add people</h3>
      <div className="search search--dialog">
        <label htmlFor={`${id}-search`} className="sr-only">
          Search people to add
        </label>
        <SearchIcon />
        <input ref={input} id={`${id}-search`} type="search" placeholder="Search by name or username" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {/* An emptied box (after an add, or by hand) hides the results at once, not after the debounce. */}
      {query.length > 0 && search.trim().length > 0 && (
        <div className="members__results" aria-busy={users.isFetching || undefined}>
          {searchStatus(users) ??
            (shown.length === 0 ? (
            <p className="people__message">Nobody to add matches “{query}”.</p>
          ) : (
            <ul className="member-list" aria-label="People to add">
              {shown.map((user) => (
                <li key={user.id} className="member" data-username={user.username}>
                  <Avatar id={user.id} name={displayName(user)} size="sm" />
                  <span className="member__names">
                    <span className="member__name">{displayName(user)}</span>
                    <span className="member__username">@{user.username}</span>
                  </span>
                  {user.deactivated && <span className="tag tag--deactivated">Deactivated</span>}
                  <button type="button" className="button button--quiet member__add" disabled={busy} onClick={() => onAdd(user, added)}>
                    Add<span className="sr-only"> {nameWithUsername(user)}</span>
                  </button>
                </li>
              ))}
            </ul>
          ))}
        </div>
      )}
    </section>
  );
}
