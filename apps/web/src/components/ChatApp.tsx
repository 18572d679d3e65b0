import { QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { RuntimeContext, useChat, useRuntime } from "../app/context";
import type { UserRuntime } from "../app/runtime";
import { useBrowserNotifications } from "../app/use-browser-notifications";
import { useRoute } from "../app/use-route";
import { CONVERSATION_LIST_INPUT, flattenConversationPages, nextConversationCursor, sortByActivity } from "../lib/conversations";
import { trpc } from "../trpc";
import { AdminPage } from "./admin/AdminPage";
import { Announcer } from "./Announcer";
import { ConversationPane } from "./ConversationPane";
import { ConversationList } from "./ConversationList";
import { EmptyPane } from "./EmptyPane";
import { NewConversationDialog } from "./NewConversationDialog";
import { QuickSwitcher } from "./QuickSwitcher";
import { SkipLinks } from "./SkipLinks";
import { isQuickSwitcherShortcut } from "../lib/keyboard";
import { jumpTarget, type SearchResult } from "../lib/message-search";
import type { Jump } from "./MessageList";
import { documentTitle, totalUnread } from "../lib/unread";
import { Sidebar } from "./Sidebar";
import { latestVersion, newer, type Conversation, type User } from "@parley/client";

interface ChatAppProps {
  runtime: UserRuntime;
  onSignOut(): void;
}

export function ChatApp({ runtime, onSignOut }: ChatAppProps) {
  return (
    <RuntimeContext.Provider value={runtime}>
      <trpc.Provider client={runtime.client} queryClient={runtime.queryClient}>
        <QueryClientProvider client={runtime.queryClient}>
          <ChatLayout onSignOut={onSignOut} />
        </QueryClientProvider>
      </trpc.Provider>
    </RuntimeContext.Provider>
  );
}

function ChatLayout({ onSignOut }: { onSignOut(): void }) {
  const runtime = useRuntime();
  useBrowserNotifications();
  const [route, navigate, returnTo] = useRoute();
  const [dialogOpen, setDialogOpen] = useState(false);
  const [switcherOpen, setSwitcherOpen] = useState(false);
  // What the switcher opens with: nothing, or a conversation's files ("Files" in its header).
  const [switcherQuery, setSwitcherQuery] = useState("");
  const openSwitcher = useCallback((query = "") => {
    setSwitcherQuery(query);
    setSwitcherOpen(true);
  }, []);
  // The conversation whose composer takes focus when it is on screen: one just created or jumped to.
  const [composerFocusFor, setComposerFocusFor] = useState<string | null>(null);
  const composerFocused = useCallback(() => setComposerFocusFor(null), []);
  // A message found by search, shown in its conversation with the history around it (a new object
  // for each jump, so jumping to the same message again scrolls to it again).
  const [jump, setJump] = useState<Jump | null>(null);
  const jumps = useRef(0);
  const leaveJump = useCallback(() => setJump(null), []);
  // Said in the empty pane after the reader left the open group.
  const [notice, setNotice] = useState<string | null>(null);
  // The group being left from here: the feed may say "removed" before the call returns.
  const [leaving, setLeaving] = useState<string | null>(null);
  const leave = async (conversationId: string, title: string) => {
    setLeaving(conversationId);
    try {
      await runtime.client.conversation.leave.mutate({ conversationId });
    } catch (error) {
      setLeaving(null);
      throw error;
    }
    navigate({ view: "home" });
    setNotice(`You left “${title}”.`);
  };
  const view = route.view;
  useEffect(() => {
    if (view === "conversation") setNotice(null);
  }, [view]);

  const meQuery = trpc.auth.me.useQuery(undefined, { staleTime: Infinity });
  // Whether to offer the admin page; the server checks again on every admin call.
  const isAdmin = trpc.auth.role.useQuery(undefined, { staleTime: 60_000 }).data?.isAdmin ?? false;
  const adminOpen = route.view === "admin" && isAdmin;
  // Page by page, each conversation with its last message: one call per page, whatever the count.
  const conversationsQuery = trpc.conversation.list.useInfiniteQuery(CONVERSATION_LIST_INPUT, {
    getNextPageParam: nextConversationCursor,
    staleTime: 30_000,
    refetchOnWindowFocus: true,
  });
  const pages = conversationsQuery.data?.pages;
  const conversations = useMemo(() => flattenConversationPages(pages ?? []), [pages]);

  const latest = useChat((s) => s.latest);
  const changed = useChat((s) => s.changed);
  const loaded = useMemo(() => new Map(conversations.map((c) => [c.id, c.lastMessage])), [conversations]);
  // The newest message, as last changed (an edit or a deletion shows in the preview).
  const lastMessage = useCallback(
    (id: string) => {
      const last = newer(loaded.get(id), latest.get(id));
      return last && latestVersion(last, changed);
    },
    [loaded, latest, changed],
  );
  const sorted = useMemo(() => sortByActivity(conversations, lastMessage), [conversations, lastMessage]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = conversationsQuery;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const me: User = meQuery.data ?? { id: runtime.userId, username: "", fullName: "" };
  const activeId = route.view === "conversation" ? route.conversationId : null;
  const threadId = route.view === "conversation" ? (route.threadId ?? null) : null;
  // Done leaving once the app has moved on from it.
  useEffect(() => {
    if (leaving !== null && activeId !== leaving) setLeaving(null);
  }, [activeId, leaving]);
  const active = activeId ? (conversations.find((c) => c.id === activeId) ?? null) : null;
  // A thread is a step into its conversation: Back (or closing it) steps out again.
  const openThread = useCallback(
    (rootId: string) => {
      if (activeId) navigate({ view: "conversation", conversationId: activeId, threadId: rootId });
    },
    [activeId, navigate],
  );
  const closeThread = useCallback(() => {
    if (activeId) returnTo({ view: "conversation", conversationId: activeId });
  }, [activeId, returnTo]);

  const readState = useChat((s) => s.conversations);
  const knowsAll = useChat((s) => s.conversationsLoaded);
  const unreadTotal = useMemo(() => totalUnread(conversations, readState, knowsAll), [conversations, readState, knowsAll]);
  useEffect(() => {
    document.title = documentTitle(unreadTotal);
  }, [unreadTotal]);

  const openConversation = (conversation: Conversation) => {
    setDialogOpen(false);
    setSwitcherOpen(false);
    setJump(null);
    setComposerFocusFor(conversation.id);
    navigate({ view: "conversation", conversationId: conversation.id });
  };

  const openMessage = (result: SearchResult) => {
    const target = jumpTarget(result);
    const { conversationId, messageId } = target;
    setSwitcherOpen(false);
    jumps.current += 1;
    setJump({ ...target, seq: jumps.current });
    navigate(target.replyId ? { view: "conversation", conversationId, threadId: messageId } : { view: "conversation", conversationId });
  };
  // Another conversation opened (from the list, or Back): the jump is done with. (The route reads
  // the address as it is now, so it already names the conversation jumped to when this runs.)
  useEffect(() => {
    if (jump && activeId !== jump.conversationId) setJump(null);
  }, [activeId, jump]);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!isQuickSwitcherShortcut(event)) return;
      event.preventDefault();
      if (!dialogOpen) openSwitcher();
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [dialogOpen]);

  return (
    <div className="shell" data-view={activeId || adminOpen ? "conversation" : "list"}>
      <SkipLinks conversationOpen={activeId !== null} />
      <Sidebar
        me={me}
        onNewConversation={() => setDialogOpen(true)}
        onSearch={() => openSwitcher()}
        onSignOut={onSignOut}
        onAdmin={isAdmin ? () => navigate({ view: "admin" }) : undefined}
      >
        <ConversationList
          conversations={sorted}
          loading={conversationsQuery.isPending}
          // What was loaded stays on screen while a failed refresh retries quietly.
          error={pages ? null : conversationsQuery.error}
          onRetry={() => void conversationsQuery.refetch()}
          hasMore={hasNextPage}
          loadingMore={isFetchingNextPage}
          loadMoreError={conversationsQuery.isFetchNextPageError ? conversationsQuery.error : null}
          onLoadMore={loadMore}
          me={me}
          activeId={activeId}
          lastMessage={lastMessage}
          readState={readState}
          onNewConversation={() => setDialogOpen(true)}
        />
      </Sidebar>
      <main className="pane">
        {adminOpen ? (
          <AdminPage me={me} onBack={() => navigate({ view: "home" })} />
        ) : activeId ? (
          <ConversationPane
            key={activeId}
            conversationId={activeId}
            listed={active}
            me={me}
            onBack={() => navigate({ view: "home" })}
            focusComposer={composerFocusFor === activeId}
            onComposerFocused={composerFocused}
            onLeave={(title) => leave(activeId, title)}
            leaving={leaving === activeId}
            threadId={threadId}
            onOpenThread={openThread}
            onCloseThread={closeThread}
            jump={jump?.conversationId === activeId ? jump : null}
            onLeaveJump={leaveJump}
            onShowFiles={() => openSwitcher(`has:file in:${activeId}`)}
          />
        ) : (
          <EmptyPane hasConversations={conversations.length > 0 || !pages} onNewConversation={() => setDialogOpen(true)} notice={notice} />
        )}
      </main>
      <NewConversationDialog open={dialogOpen} me={me} onClose={() => setDialogOpen(false)} onOpened={openConversation} />
      <QuickSwitcher
        open={switcherOpen}
        initialQuery={switcherQuery}
        conversations={sorted}
        me={me}
        onClose={() => setSwitcherOpen(false)}
        onChoose={openConversation}
        onChooseMessage={openMessage}
      />
      <Announcer conversations={conversations} me={me} activeId={activeId} />
    </div>
  );
}
