// The people search of the new-conversation and members dialogs: the server's user.search for what
// was typed (after a pause in typing; never the whole directory), the previous results kept while
// the next ones load, and what to say while they load or after the search failed.
import { keepPreviousData } from "@tanstack/react-query";
import { useMemo, type ReactElement } from "react";
import { describeError, type User } from "@parley/client";
import { useDebounced } from "../app/use-debounced";
import { trpc } from "../trpc";

/** The longest query user.search takes (searchUsersInput in packages/api/src/schemas.ts). */
const SEARCH_QUERY_MAX = 32;
/** Wait for a pause in typing before asking the server. */
const SEARCH_DEBOUNCE_MS = 200;

export interface PeopleSearchOptions {
  /** Most people shown; typing more narrows it. */
  limit: number;
  /** People not to show (the caller, the members already in): the server is asked for this many more. */
  leaveOut: (user: User) => boolean;
  /** How many of the answer `leaveOut` may remove at most. */
  leftOutAtMost: number;
}

export function usePeopleSearch(search: string, { limit, leaveOut, leftOutAtMost }: PeopleSearchOptions) {
  const query = useDebounced(search.trim().slice(0, SEARCH_QUERY_MAX), SEARCH_DEBOUNCE_MS);
  const users = trpc.user.search.useQuery({ query, limit: limit + leftOutAtMost }, { enabled: query.length > 0, staleTime: 0, placeholderData: keepPreviousData });
  const shown = useMemo(() => (users.data ?? []).filter((u) => !leaveOut(u)).slice(0, limit), [users.data, leaveOut, limit]);
  return { query, users, shown };
}

type Search = ReturnType<typeof usePeopleSearch>["users"];

/** What to show instead of results while the search loads or after it failed; null when there are results (or none) to show. */
export function searchStatus(users: Search): ReactElement | null {
  if (users.isPending) {
    return (
      <p className="people__message" role="status">
        <span className="spinner" aria-hidden="true" /> Looking for people…
      </p>
    );
  }
  if (!users.data && users.isError) {
    return (
      <div className="people__message" role="alert">
        <p>{describeError(users.error)}</p>
        <button type="button" className="button" onClick={() => void users.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  return null;
}
