import { QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { RuntimeContext, useChat, useRuntime } from "../app/context";
import type { UserRuntime } from "../app/runtime";
import { useRoute } from "../app/use-route";
import { sortByActivity } from "../lib/conversations";
import { newer } from "../lib/timeline";
import type { Conversation, Message, User } from "../lib/types";
import { trpc } from "../trpc";
import { Announcer } from "./Announcer";
import { ConversationPane } from "./ConversationPane";
import { ConversationList } from "./ConversationList";
import { EmptyPane } from "./EmptyPane";
import { NewConversationDialog } from "./NewConversationDialog";
import { Sidebar } from "./Sidebar";

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

const PREVIEW_OPTIONS = { staleTime: Infinity } as const;

/** Kept at module level: useQueries re-runs combine, and returns a new object, only when a result changed. */
function combinePreviews(results: { data?: { items: Message[] }; isPending: boolean }[]) {
  const byId = new Map<string, Message>();
  for (const result of results) {
    const last = result.data?.items.at(-1);
    if (last) byId.set(last.conversationId, last);
  }
  return { byId, loading: results.some((r) => r.isPending) };
}

function ChatLayout({ onSignOut }: { onSignOut(): void }) {
  const runtime = useRuntime();
  const [route, navigate] = useRoute();
  const [dialogOpen, setDialogOpen] = useState(false);

  const meQuery = trpc.auth.me.useQuery(undefined, { staleTime: Infinity });
  const conversationsQuery = trpc.conversation.list.useQuery(undefined, { staleTime: 30_000, refetchOnWindowFocus: true });
  const conversations = useMemo(() => conversationsQuery.data ?? [], [conversationsQuery.data]);

  // The last message of each conversation, fetched together in one batched request.
  const previews = trpc.useQueries(
    (t) => conversations.map((c) => t.message.list({ conversationId: c.id, limit: 1 }, PREVIEW_OPTIONS)),
    { combine: combinePreviews },
  );
  const loadedPreviews = previews.byId;
  const latest = useChat((s) => s.latest);
  const lastMessage = useCallback((id: string) => newer(loadedPreviews.get(id), latest.get(id)), [loadedPreviews, latest]);
  const sorted = useMemo(() => sortByActivity(conversations, lastMessage), [conversations, lastMessage]);

  const me: User = meQuery.data ?? { id: runtime.userId, username: "", fullName: "" };
  const activeId = route.view === "conversation" ? route.conversationId : null;
  const active = activeId ? (conversations.find((c) => c.id === activeId) ?? null) : null;

  useEffect(() => {
    runtime.chat.setActiveConversation(activeId);
  }, [runtime, activeId]);

  const unread = useChat((s) => s.unread);
  const totalUnread = [...unread.values()].reduce((a, b) => a + b, 0);
  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Parley` : "Parley";
  }, [totalUnread]);

  const openConversation = (conversation: Conversation) => {
    setDialogOpen(false);
    navigate({ view: "conversation", conversationId: conversation.id });
  };

  return (
    <div className="shell" data-view={activeId ? "conversation" : "list"}>
      <Sidebar me={me} onNewConversation={() => setDialogOpen(true)} onSignOut={onSignOut}>
        <ConversationList
          conversations={sorted}
          loading={conversationsQuery.isPending}
          error={conversationsQuery.error}
          onRetry={() => void conversationsQuery.refetch()}
          previewsLoading={previews.loading}
          me={me}
          activeId={activeId}
          lastMessage={lastMessage}
          unread={unread}
          onNewConversation={() => setDialogOpen(true)}
        />
      </Sidebar>
      <main className="pane">
        {activeId ? (
          <ConversationPane
            key={activeId}
            conversationId={activeId}
            conversation={active}
            listLoading={conversationsQuery.isPending}
            me={me}
            onBack={() => navigate({ view: "home" })}
          />
        ) : (
          <EmptyPane hasConversations={conversations.length > 0} onNewConversation={() => setDialogOpen(true)} />
        )}
      </main>
      <NewConversationDialog open={dialogOpen} me={me} onClose={() => setDialogOpen(false)} onOpened={openConversation} />
      <Announcer conversations={conversations} me={me} activeId={activeId} />
    </div>
  );
}
