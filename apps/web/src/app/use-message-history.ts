// One conversation's main-list history as pages, for the message list: from the newest back
// (message.list with cursor), or, opened at a message, a window around it (around) that pages
// both ways (cursor for older, after for newer) until it reaches the newest.
import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import type { Message } from "@parley/client";
import { trpc } from "../trpc";
import { useRuntime } from "./context";

export const HISTORY_PAGE_SIZE = 50;

/** Where a page of a window starts: the message it is around, below an older cursor, or after a newer one. */
export type WindowPageParam = { around: string } | { cursor: string } | { after: string };

export interface MessagePage {
  items: Message[];
  nextCursor: string | null;
  newerCursor?: string | null | undefined;
}

/**
 * The infinite query of a window around `around`: pages prepended as newer ones load (`after`),
 * appended as older ones do (`cursor`). Under message.list's key, so that what invalidates
 * histories (a feed restarted without its position) reloads windows too, from their newest page
 * down; query-persistence.ts leaves windows out of what it keeps.
 */
export function historyWindowQuery(list: (input: WindowPageParam, signal: AbortSignal) => Promise<MessagePage>, conversationId: string, around: string) {
  return infiniteQueryOptions({
    queryKey: [["message", "list"], { input: { conversationId, around, limit: HISTORY_PAGE_SIZE }, type: "infinite" }],
    queryFn: ({ pageParam, signal }) => list(pageParam, signal),
    initialPageParam: { around } as WindowPageParam,
    getNextPageParam: (page): WindowPageParam | undefined => (page.nextCursor ? { cursor: page.nextCursor } : undefined),
    getPreviousPageParam: (page): WindowPageParam | undefined => (page.newerCursor ? { after: page.newerCursor } : undefined),
    staleTime: Infinity,
    // Each jump starts from the message again, not from what an earlier one loaded.
    gcTime: 0,
  });
}

export interface MessageHistory {
  /** Pages loaded, each oldest first; undefined until the first arrives. */
  pages: readonly (readonly Message[])[] | undefined;
  isPending: boolean;
  /** The first page failed (what is loaded stays on screen when a later one fails). */
  error: unknown;
  refetch(): void;
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder(): void;
  hasNewer: boolean;
  loadingNewer: boolean;
  loadNewer(): void;
  /** The pages hold the newest message (as of when they were read): live messages follow them without a gap. */
  reachesNewest: boolean;
}

export function useMessageHistory(conversationId: string, around: string | null): MessageHistory {
  const { client } = useRuntime();
  const newest = trpc.message.list.useInfiniteQuery(
    { conversationId, limit: HISTORY_PAGE_SIZE },
    { getNextPageParam: (page) => page.nextCursor, staleTime: Infinity, enabled: around === null },
  );
  const window = useInfiniteQuery({
    ...historyWindowQuery((page, signal) => client.message.list.query({ conversationId, limit: HISTORY_PAGE_SIZE, ...page }, { signal }), conversationId, around ?? ""),
    enabled: around !== null,
  });

  const windowed = around !== null;
  const shown = windowed ? window : newest;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = shown;
  const loadOlder = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const hasNewer = windowed && window.hasPreviousPage;
  const { isFetchingPreviousPage, fetchPreviousPage } = window;
  const loadNewer = useCallback(() => {
    if (hasNewer && !isFetchingPreviousPage) void fetchPreviousPage();
  }, [hasNewer, isFetchingPreviousPage, fetchPreviousPage]);
  const { data, refetch } = shown;
  const pages = useMemo(() => data?.pages.map((p) => p.items), [data]);
  return {
    pages,
    isPending: shown.isPending,
    error: data ? null : shown.error,
    refetch: () => void refetch(),
    hasOlder: hasNextPage,
    loadingOlder: isFetchingNextPage,
    loadOlder,
    hasNewer,
    loadingNewer: windowed && isFetchingPreviousPage,
    loadNewer,
    reachesNewest: !windowed || (data !== undefined && !hasNewer),
  };
}
