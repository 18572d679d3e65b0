// Everything that lives as long as one user is signed in, in this tab: the tRPC client (HTTP for
// calls, WebSocket for the live stream), the query cache, the chat store, the sender and the live
// subscription. Created on sign-in, disposed on sign-out, so nothing of one user leaks to the next.
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import { createTRPCQueryUtils } from "@trpc/react-query";
import type { AppRouter } from "@parley/api";
import { authLink, tokenOf } from "../api/auth-link";
import { MAX_CALLS_PER_BATCH } from "@parley/api/limits";
import { TRPC_HTTP_PATH, trpcWebSocketUrl } from "../api/urls";
import { ChatStore } from "../chat/chat-store";
import { LiveSync } from "../chat/live-sync";
import { Sender } from "../chat/sender";
import { backoffDelay } from "../lib/backoff";
import { CONVERSATION_LIST_INPUT } from "../lib/conversations";
import { isWorthRetrying, retryDelayMs } from "../lib/errors";
import type { Session } from "../session/session";

export interface UserRuntime {
  userId: string;
  client: TRPCClient<AppRouter>;
  queryClient: QueryClient;
  chat: ChatStore;
  sender: Sender;
  /** Unsent text per conversation, kept while switching between them. */
  drafts: Map<string, string>;
  /** Tells this user's other tabs that the conversation list changed. */
  announceConversationsChanged(): void;
  dispose(): void;
}

const CONVERSATIONS_CHANNEL = "parley.conversations";
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

  // The token the WebSocket connected with, so a refusal refreshes exactly that one.
  let socketToken: string | null = null;
  const wsClient = createWSClient({
    url: trpcWebSocketUrl(window.location),
    connectionParams: async () => {
      socketToken = await session.accessToken();
      return { token: socketToken ?? "" };
    },
    retryDelayMs: (attempt) => backoffDelay(attempt),
    lazy: { enabled: false, closeMs: 0 },
    // Notice a dead connection (sleep, network change) within seconds instead of minutes.
    keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
  });

  const bearer = (context: Record<string, unknown>): Record<string, string> => {
    const token = tokenOf(context);
    return token ? { Authorization: `Bearer ${token}` } : {};
  };
  const client = createTRPCClient<AppRouter>({
    links: [
      authLink(session),
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: wsClient }),
        false: splitLink({
          // One mutation per request: messages waiting in many conversations go out together, and
          // batched they could pass the server's body limit (MAX_BODY_BYTES, 100 KB) that each
          // message alone stays well under.
          condition: (op) => op.type === "mutation",
          true: httpLink({ url: TRPC_HTTP_PATH, headers: ({ op }) => bearer(op.context) }),
          false: httpBatchLink({
            url: TRPC_HTTP_PATH,
            maxURLLength: 4_000,
            // Past the server's cap the whole batch is refused; tRPC splits larger ones.
            maxItems: MAX_CALLS_PER_BATCH,
            headers: ({ opList }) => bearer(opList[0].context),
          }),
        }),
      }),
    ],
  });

  const chat = new ChatStore(userId, navigator.onLine);
  const sender = new Sender({
    store: chat,
    send: (input) => client.message.send.mutate(input),
    newClientMessageId: () => crypto.randomUUID(),
    now: () => Date.now(),
  });

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

  const live = new LiveSync({
    client,
    onMessage: (message) => {
      chat.receive(message, { fromLive: true });
      if (!knowsConversation(message.conversationId)) void bringIn(message.conversationId);
    },
    onLiveChange: (isLive) => chat.setConnection({ live: isLive }),
    onStartedWithoutResume: () => {
      void queries.conversation.list.invalidate();
      void queries.message.list.invalidate();
    },
    onStarted: () => sender.wake(),
    onUnauthorized: async () => (await session.refresh(socketToken)) !== null,
  });

  // A new access token: reconnect the socket so it authenticates with it (connectionParams runs on
  // every connect). The stream resumes from its last event id.
  let lastToken = session.currentAccessToken();
  const stopFollowingSession = session.subscribe(() => {
    const token = session.currentAccessToken();
    if (token && token !== lastToken) {
      lastToken = token;
      const connection = wsClient.connection;
      if (connection?.state === "open") connection.ws.close(4000, "new access token");
    }
  });

  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CONVERSATIONS_CHANNEL) : null;
  const onChannelMessage = (event: MessageEvent<{ userId: string }>) => {
    if (event.data.userId === userId) void queries.conversation.list.invalidate();
  };
  channel?.addEventListener("message", onChannelMessage);

  const onOnline = () => {
    chat.setConnection({ online: true });
    session.checkNow();
    sender.wake();
  };
  const onOffline = () => chat.setConnection({ online: false });
  const onVisible = () => {
    if (document.visibilityState === "visible") session.checkNow();
  };
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  document.addEventListener("visibilitychange", onVisible);

  live.start();

  return {
    userId,
    client,
    queryClient,
    chat,
    sender,
    drafts: new Map(),
    announceConversationsChanged: () => channel?.postMessage({ userId }),
    dispose() {
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      document.removeEventListener("visibilitychange", onVisible);
      channel?.removeEventListener("message", onChannelMessage);
      channel?.close();
      stopFollowingSession();
      live.stop();
      sender.stop();
      void wsClient.close();
      queryClient.clear();
    },
  };
}
