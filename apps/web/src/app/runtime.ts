// Everything that lives as long as one user is signed in, in this tab: the tRPC client (HTTP for
// calls, WebSocket for the live stream), the query cache, the chat store, the sender and the live
// subscription. Created on sign-in, disposed on sign-out, so nothing of one user leaks to the next.
import { QueryClient } from "@tanstack/react-query";
import type { TRPCClient } from "@trpc/client";
import { createTRPCQueryUtils } from "@trpc/react-query";
import type { AppRouter } from "@parley/api";
import {
  AwayReporter,
  backoffDelay,
  browserOutboxStorage,
  browserPresenceTabs,
  createParleyClient,
  isWorthRetrying,
  newer,
  retryDelayMs,
  type ChatStore,
  type Conversation,
  type FileUrlCache,
  type Sender,
  type Session,
  type TypingReporter,
  type UploadQueue,
} from "@parley/client";
import { CONVERSATION_LIST_INPUT, withConversation, withoutConversation } from "../lib/conversations";
import { createDrafts, type Drafts } from "../lib/drafts";
import { persistQueries } from "./query-persistence";

export interface UserRuntime {
  userId: string;
  client: TRPCClient<AppRouter>;
  queryClient: QueryClient;
  chat: ChatStore;
  sender: Sender;
  /** Tells the others the reader is typing (the composer calls it). */
  typing: TypingReporter;
  /** Files being uploaded for the composers' next messages. */
  uploads: UploadQueue;
  /** Download URLs of the attachments on screen, renewed before they expire. */
  fileUrls: FileUrlCache;
  /** Unsent text per conversation, kept across conversations and reloads. */
  drafts: Drafts;
  /** Tells this user's other tabs that the conversation list changed. */
  announceConversationsChanged(): void;
  dispose(): void;
  /** Deletes what this browser keeps of the user (unsent messages, drafts, kept queries, the last activity): before signing out. */
  forget(): Promise<void>;
}

const CONVERSATIONS_CHANNEL = "parley.conversations";
/** What counts as the person using the tab, besides focus and the tab being shown (listened for on the way down, so nothing can hide them). */
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel"] as const;
/** Retries of a failed load before it shows as failed: 1, 2, 4, 8 s windows with jitter, about 11 s in all. */
const QUIET_RETRIES = 4;

export function createUserRuntime(session: Session, userId: string): UserRuntime {
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        // Live messages keep what is shown current; refetching is for gaps, done on purpose.
        staleTime: 60_000,
        refetchOnWindowFocus: false,
        // A failed load keeps what is shown and tries again quietly, for about ten seconds;
        // only a load with nothing to show yet turns into an error on screen, with a button.
        retry: (failures, error) => failures < QUIET_RETRIES && isWorthRetrying(error),
        retryDelay: (attempt, error) => retryDelayMs(error, backoffDelay(attempt, { baseMs: 1000 })),
      },
    },
  });

  // What was on screen, for a reload while the server cannot be reached.
  const keptQueries = persistQueries(queryClient, localStorageOrNull(), userId);
  const restored = keptQueries.restore();
  // Unsent messages survive a reload or a closed tab; the next page (or another tab) sends them.
  const outboxStorage = browserOutboxStorage(userId);
  const drafts = createDrafts(localStorageOrNull(), userId);
  // Started below, once the query cache it reports to is wired.
  const parley = createParleyClient({
    baseUrl: window.location.origin,
    session,
    userId,
    online: navigator.onLine,
    outboxStorage,
    onMessage: (message) => {
      if (!knowsConversation(message.conversationId)) void bringIn(message.conversationId);
    },
    onResumeLost: () => {
      void queries.conversation.list.invalidate();
      void queries.message.list.invalidate();
    },
    // The list and the open conversation follow the feed: a conversation created with the reader,
    // a group they were added to, a rename, members coming and going, one they left or lost.
    onStoredEvent: (event) => {
      if (event.type === "conversation.updated") followConversation(event.conversation);
      if (event.type === "conversation.removed") dropConversation(event.conversationId);
    },
    onFeedStarted: () => presence.reconnected(),
  });
  const { api: client, chat, sender } = parley;
  // Shown from what was kept: until the feed is live again, this is reconnecting, not a first connect.
  if (restored) chat.setConnection({ wasLive: true });

  // The query cache, typed by procedure, for use outside React.
  const queries = createTRPCQueryUtils<AppRouter>({ client, queryClient });
  const knowsConversation = (id: string) =>
    queries.conversation.list.getInfiniteData(CONVERSATION_LIST_INPUT)?.pages.some((page) => page.some((c) => c.id === id)) ?? false;
  // A live message in a conversation the list has not loaded (new, or on a page not loaded yet): fetch
  // that one conversation and put it at the top, where its new message puts it anyway.
  const fetchingConversations = new Set<string>();
  const bringIn = async (conversationId: string) => {
    if (fetchingConversations.has(conversationId)) return;
    fetchingConversations.add(conversationId);
    try {
      const conversation = await queries.conversation.get.fetch({ conversationId });
      queries.conversation.list.setInfiniteData(CONVERSATION_LIST_INPUT, (data) => {
        if (!data || data.pages.some((page) => page.some((c) => c.id === conversationId))) return data;
        const [first = [], ...rest] = data.pages;
        return { ...data, pages: [[conversation, ...first], ...rest] };
      });
    } catch {
      // Retried with backoff already; the next refresh of the list brings it in.
    } finally {
      fetchingConversations.delete(conversationId);
    }
  };

  const followConversation = (conversation: Conversation) => {
    queries.conversation.list.setInfiniteData(CONVERSATION_LIST_INPUT, (data) => (data ? { ...data, pages: withConversation(data.pages, conversation) } : data));
    // The open conversation's whole member list: an event carries the first 20 members only.
    const input = { conversationId: conversation.id };
    const known = queries.conversation.get.getData(input);
    if (known === undefined) return;
    if (conversation.members.length >= conversation.memberCount) {
      queries.conversation.get.setData(input, { ...conversation, lastMessage: newer(known.lastMessage, conversation.lastMessage) });
    } else {
      void queries.conversation.get.invalidate(input);
    }
  };
  const dropConversation = (conversationId: string) => {
    queries.conversation.list.setInfiniteData(CONVERSATION_LIST_INPUT, (data) => (data ? { ...data, pages: withoutConversation(data.pages, conversationId) } : data));
  };

  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CONVERSATIONS_CHANNEL) : null;
  const onChannelMessage = (event: MessageEvent<{ userId: string }>) => {
    if (event.data.userId === userId) void queries.conversation.list.invalidate();
  };
  channel?.addEventListener("message", onChannelMessage);

  // Away after five minutes without a key, the pointer, focus or the tab shown, in any of this
  // user's tabs; active again at the first of them (one tab speaks for all).
  const presenceTabs = browserPresenceTabs(userId);
  const presence = new AwayReporter({
    send: (status) => client.presence.set.mutate({ status }),
    tabs: presenceTabs,
  });
  const onActivity = () => presence.activity();
  const activityOptions = { capture: true, passive: true };
  for (const type of ACTIVITY_EVENTS) window.addEventListener(type, onActivity, activityOptions);
  window.addEventListener("focus", onActivity);

  const onOnline = () => {
    chat.setConnection({ online: true });
    session.checkNow();
    sender.wake();
  };
  const onOffline = () => chat.setConnection({ online: false });
  const onVisible = () => {
    if (document.visibilityState !== "visible") return;
    session.checkNow();
    presence.activity();
  };
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  document.addEventListener("visibilitychange", onVisible);

  parley.start();
  presence.start();

  return {
    userId,
    client,
    queryClient,
    chat,
    sender,
    typing: parley.typing,
    uploads: parley.uploads,
    fileUrls: parley.fileUrls,
    drafts,
    announceConversationsChanged: () => channel?.postMessage({ userId }),
    dispose() {
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      document.removeEventListener("visibilitychange", onVisible);
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, onActivity, activityOptions);
      window.removeEventListener("focus", onActivity);
      presence.dispose();
      channel?.removeEventListener("message", onChannelMessage);
      channel?.close();
      // Disposed when this user's session is over in this tab: signed out here or in another tab,
      // or ended by the server (a revoked login, "log out everywhere"). What was on screen goes
      // with it; unsent messages and drafts stay, for their author's next sign-in, unless they
      // signed out themselves (forget()).
      keptQueries.forget();
      void parley.dispose();
      queryClient.clear();
    },
    async forget() {
      parley.sender.stop();
      // Nothing more is recorded, then the record goes with the rest.
      presence.dispose();
      presenceTabs.forget();
      keptQueries.forget();
      drafts.clear();
      await outboxStorage.clear().catch(() => undefined);
    },
  };
}

function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    // Refused (some private modes, or storage disabled).
    return null;
  }
}
