// Everything one signed-in user's client runs, whatever draws it: the typed API, the chat store
// (live messages, one's own unsent ones, unread counts, the connection), the sender working through
// the outbox, and the live feed that keeps both current. The web app puts React on top of it; a bot
// or a script uses it as it is.
import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { ChatStore } from "./chat/chat-store";
import type { OutboxStorage } from "./chat/outbox-storage";
import { Sender } from "./chat/sender";
import { LiveStream } from "./live/live-stream";
import { messageFeed, type LiveEvent } from "./live/message-feed";
import type { Session } from "./session/session";
import { createApiClient, type WebSocketClass } from "./transport/api-client";
import type { Message } from "./types";

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
}

export interface ParleyClient {
  userId: string;
  api: TRPCClient<AppRouter>;
  chat: ChatStore;
  sender: Sender;
  live: LiveStream<LiveEvent>;
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

  const chat = new ChatStore(userId, options.online ?? true);
  const sender = new Sender({
    store: chat,
    send: (input) => api.message.send.mutate(input),
    newClientMessageId: () => crypto.randomUUID(),
    now: () => Date.now(),
    ...(options.outboxStorage ? { storage: options.outboxStorage } : {}),
  });
  const live = new LiveStream<LiveEvent>({
    source: messageFeed(api),
    handlers: {
      "message.created": ({ message }) => {
        chat.receive(message, { fromLive: true });
        options.onMessage?.(message);
      },
    },
    onLiveChange: (isLive) => chat.setConnection({ live: isLive }),
    onResumeLost: () => options.onResumeLost?.(),
    onStarted: () => sender.wake(),
    onUnauthorized: async () => (await session.refresh(connection.socketToken())) !== null,
    ...retry,
  });
  return {
    userId,
    api,
    chat,
    sender,
    live,
    start() {
      live.start();
      void sender.start();
    },
    async dispose() {
      live.stop();
      sender.stop();
      await connection.close();
    },
  };
}
