// Everything one signed-in user's client runs, whatever draws it: the typed API, the chat store
// (live messages, one's own unsent ones, conversations with read state, typing, presence, the
// connection), the sender working through the outbox, and the live feed (sync.events) that keeps
// them current. The web app puts React on top of it; a bot or a script uses it as it is.
//
// Start-up follows docs/contract-changes.md: subscribe first, then load conversation.list, then
// apply the events that arrived meanwhile (the store buffers them); the same after any restart of
// the feed without a position. Presence is read with user.presence whenever the feed (re)starts.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { ChatStore } from "./chat/chat-store";
import type { OutboxStorage } from "./chat/outbox-storage";
import { Sender } from "./chat/sender";
import { backoffDelay } from "./backoff";
import { loadAllConversations, readPresence } from "./chat/state-loader";
import { TypingReporter } from "./chat/typing-reporter";
import { LiveStream } from "./live/live-stream";
import { syncFeed } from "./live/sync-feed";
import type { Session } from "./session/session";
import { createApiClient, type WebSocketClass } from "./transport/api-client";
import { FileUrlCache } from "./files/file-url-cache";
import { uploadFile } from "./files/upload";
import { UploadQueue } from "./files/upload-queue";
import type { FeedEvent, Message } from "./types";

export interface ParleyClientOptions {
  /** The server's address: "https://chat.example.com", or window.location.origin. */
  baseUrl: string;
  /** A signed-in session (createSession, then signIn). */
  session: Session;
  /** The signed-in user, from the session's state. */
  userId: string;
  /** Node 20 has no WebSocket: pass the `ws` package's class. */
  WebSocket?: WebSocketClass;
  /**
   * Where unsent messages are kept across reloads and restarts (browserOutboxStorage, or
   * fileOutboxStorage from @parley/client/node); without one they live as long as this client.
   */
  outboxStorage?: OutboxStorage;
  /** Whether the platform says it has a network (navigator.onLine); true by default. */
  online?: boolean;
  /** Wait before the n-th reconnect or resubscribe in a row; backoff with jitter by default. */
  retryDelayMs?(attempt: number): number;
  /** Each message that arrives live (after the chat store has it), one's own from other tabs included. */
  onMessage?(message: Message): void;
  /** The feed started with nothing to resume from: whatever was loaded before may have gaps. */
  onResumeLost?(): void;
  /** Each stored event of the feed, after the chat store applied it (a UI's caches follow renames, members, removals). */
  onStoredEvent?(event: FeedEvent): void;
  /** The live feed started, or started again after its connection was lost (the server may have forgotten the user meanwhile). */
  onFeedStarted?(): void;
}

export interface ParleyClient {
  userId: string;
  api: TRPCClient<AppRouter>;
  chat: ChatStore;
  sender: Sender;
  /** Tells the others the reader is typing: call `typed` on every change of a composer, `stopped` on send. */
  typing: TypingReporter;
  live: LiveStream<FeedEvent>;
  /** Files being uploaded for the messages being written, per composer. */
  uploads: UploadQueue;
  /** Download URLs of the attachments on screen, renewed before they expire. */
  fileUrls: FileUrlCache;
  /** Starts the live feed and the sender (which sends what the storage kept); call once the hooks' targets are ready. */
  start(): void;
  /** Stops the feed, the sender and the socket. */
  dispose(): Promise<void>;
}

export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  const { session, userId } = options;
  const retry = options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {};
  const connection = createApiClient({ baseUrl: options.baseUrl, session, ...retry, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}) });
  const { api } = connection;

  const chat = new ChatStore(userId, options.online ?? true, {
    markRead: (conversationId, messageId) => api.conversation.markRead.mutate({ conversationId, messageId }),
  });
  let disposed = false;
  // Each reload of the state supersedes the one before (the feed restarted again meanwhile).
  let reloads = 0;
  const reload = async () => {
    const generation = ++reloads;
    chat.beginReload();
    for (let failures = 0; !disposed && generation === reloads; failures += 1) {
      try {
        const list = await loadAllConversations(api);
        if (disposed || generation !== reloads) return;
        chat.finishReload(list);
        await refreshPresence();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs?.(failures + 1) ?? backoffDelay(failures + 1)));
      }
    }
  };
  const refreshPresence = async (userIds: readonly string[] = chat.contacts()) => {
    try {
      chat.setPresence(await readPresence(api, userIds));
    } catch {
      // Presence is a nicety: the events that follow, and the next restart, bring it.
    }
  };
  const sender = new Sender({
    store: chat,
    send: (input) => api.message.send.mutate(input),
    newClientMessageId: () => crypto.randomUUID(),
    now: () => Date.now(),
    ...(options.outboxStorage ? { storage: options.outboxStorage } : {}),
  });
  const uploads = new UploadQueue({
    upload: ({ conversationId, file, name, signal, onProgress }) =>
      uploadFile({ baseUrl: options.baseUrl, conversationId, file, name, signal, tokens: session, onProgress: (sent) => onProgress(sent) }),
  });
  const fileUrls = new FileUrlCache({ fetch: (attachmentIds) => api.file.urls.query({ attachmentIds }), now: () => Date.now() });
  const typing = new TypingReporter({ report: (conversationId) => api.typing.set.mutate({ conversationId }) });
  const stored = (event: FeedEvent, id: string | undefined) => {
    chat.applyEvent(event, id ?? null);
    options.onStoredEvent?.(event);
  };
  const live = new LiveStream<FeedEvent>({
    source: syncFeed(api),
    handlers: {
      "message.created": (event, id) => {
        stored(event, id);
        options.onMessage?.(event.message);
      },
      "message.updated": stored,
      "conversation.updated": (event, id) => {
        stored(event, id);
        // New people to share a conversation with (added to a group, or one created with them):
        // their status, which no event will bring until it changes.
        const { presence, conversationsLoaded } = chat.getState();
        const unknown = event.conversation.members.map((m) => m.id).filter((id) => id !== userId && !presence.has(id));
        if (conversationsLoaded && unknown.length > 0) void refreshPresence(unknown);
      },
      "conversation.removed": stored,
      "read.updated": stored,
      typing: ({ conversationId, userId: typist }) => chat.typingStarted(conversationId, typist),
      presence: (status) => chat.setPresence([status]),
    },
    onLiveChange: (isLive) => chat.setConnection({ live: isLive }),
    onResumeLost: () => {
      void reload();
      options.onResumeLost?.();
    },
    onStarted: () => {
      sender.wake();
      // A restart that resumed: the statuses may have changed while the stream was down.
      if (chat.getState().conversationsLoaded) void refreshPresence();
      options.onFeedStarted?.();
    },
    onUnauthorized: async () => (await session.refresh(connection.socketToken())) !== null,
    ...retry,
  });
  return {
    userId,
    api,
    chat,
    sender,
    typing,
    live,
    uploads,
    fileUrls,
    start() {
      live.start();
      void sender.start();
    },
    async dispose() {
      disposed = true;
      live.stop();
      chat.dispose();
      typing.dispose();
      uploads.dispose();
      sender.stop();
      await connection.close();
    },
  };
}
