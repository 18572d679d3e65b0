import { useId, useState } from "react";
import type { User } from "@parley/client";
import { useDebounced } from "../../app/use-debounced";
import { displayName } from "../../lib/conversations";
import { trpc } from "../../trpc";
import { adminErrorText } from "./admin-errors";

interface UsersPanelProps {
  me: User;
}

/** Everyone, by username or found by a search: promote and demote, deactivate (after a second click) and reactivate. */
export function UsersPanel({ me }: UsersPanelProps) {
  const id = useId();
  const utils = trpc.useUtils();
  const [query, setQuery] = useState("");
  const settled = useDebounced(query.trim(), 250);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const users = trpc.admin.users.useInfiniteQuery({ query: settled || undefined, limit: 50 }, { getNextPageParam: (page) => page.nextCursor ?? undefined });
  const done = {
    onSuccess: () => {
      void utils.admin.users.invalidate();
      void utils.admin.auditLog.invalidate();
      // Demoting oneself takes this page away.
      void utils.auth.role.invalidate();
      setConfirming(null);
      setError(null);
    },
    onError: (e: unknown) => setError(adminErrorText(e)),
  };
  const setAdmin = trpc.admin.setAdmin.useMutation(done);
  const deactivate = trpc.admin.deactivate.useMutation(done);
  const reactivate = trpc.admin.reactivate.useMutation(done);
  const busy = setAdmin.isPending || deactivate.isPending || reactivate.isPending;
  const items = users.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="admin__panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>People</h3>
      <label className="admin__search">
        <span className="sr-only">Find people by username or full name</span>
        <input type="search" placeholder="Find by username or name" value={query} onChange={(e) => setQuery(e.target.value)} />
      </label>
      {error && (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      )}
      {users.error && !users.data && <p className="notice notice--error">{adminErrorText(users.error)}</p>}
      <ul className="admin-list" aria-label="People" aria-busy={users.isFetching || undefined}>
        {items.map((user) => (
          <li key={user.id} className="admin-list__item" data-username={user.username}>
            <div className="admin-list__who">
              <span className="admin-list__name">{displayName(user)}</span>
              <span className="admin__muted">@{user.username}</span>
              {user.id === me.id && <span className="admin__muted">(you)</span>}
              {user.isAdmin && <span className="tag tag--admin">Admin</span>}
              {user.deactivated && <span className="tag tag--deactivated">Deactivated</span>}
            </div>
            <div className="admin-list__actions">
              {confirming === user.id ? (
                <>
                  <span className="admin__muted">Sign @{user.username} out everywhere and lock the account?</span>
                  <button type="button" className="button button--danger" disabled={busy} onClick={() => deactivate.mutate({ userId: user.id })}>
                    Deactivate @{user.username}
                  </button>
                  <button type="button" className="button button--quiet" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </>
              ) : (
                <>
                  <button type="button" className="button button--quiet" disabled={busy} onClick={() => setAdmin.mutate({ userId: user.id, admin: !user.isAdmin })}>
                    {user.isAdmin ? "Remove admin" : "Make admin"}
                  </button>
                  {user.deactivated ? (
                    <button type="button" className="button button--quiet" disabled={busy} onClick={() => reactivate.mutate({ userId: user.id })}>
                      Reactivate
                    </button>
                  ) : (
                    user.id !== me.id && (
                      <button type="button" className="button button--danger-quiet" disabled={busy} onClick={() => setConfirming(user.id)}>
                        Deactivate
                      </button>
                    )
                  )}
                </>
              )}
            </div>
          </li>
        ))}
      </ul>
      {users.data && items.length === 0 && <p className="admin__muted">Nobody matches “{settled}”.</p>}
      {users.hasNextPage && (
        <button type="button" className="button button--quiet" disabled={users.isFetchingNextPage} onClick={() => void users.fetchNextPage()}>
          More people
        </button>
      )}
    </section>
  );
}
