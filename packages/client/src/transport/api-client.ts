// The signed-in tRPC client, typed from AppRouter: HTTP for queries and mutations (each with a fresh
// access token, see auth-link.ts), the WebSocket for subscriptions. The socket authenticates with
// connectionParams on every connect, and is reconnected when the session gets a new access token.
import { createTRPCClient, createWSClient, httpBatchLink, httpLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { MAX_CALLS_PER_BATCH } from "@parley/api/limits";
import { backoffDelay } from "../backoff";
import type { Session } from "../session/session";
import { authLink, tokenOf } from "./auth-link";
import { trpcHttpUrl, trpcWebSocketUrl } from "./urls";

/**
 * A WebSocket class with the browser's API. Browsers have one; in Node 20 pass the `ws` package's
 * (the package never imports it, so no browser bundle carries it).
 */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => object;

export interface ApiClientOptions {
  /** The server's address: "https://chat.example.com", or window.location.origin. */
  baseUrl: string;
  session: Session;
  WebSocket?: WebSocketClass;
  /** Wait before the socket's n-th reconnect attempt; backoff with jitter by default. */
  retryDelayMs?(attempt: number): number;
}

export interface ApiClient {
  api: TRPCClient<AppRouter>;
  /** The WebSocket's token, for refreshing exactly the one the server refused. */
  socketToken(): string | null;
  close(): Promise<void>;
}

export function createApiClient({ baseUrl, session, WebSocket, retryDelayMs = (attempt) => backoffDelay(attempt) }: ApiClientOptions): ApiClient {
  let socketToken: string | null = null;
  const wsClient = createWSClient({
    url: trpcWebSocketUrl(baseUrl),
    // ws implements the same API as the browser's class; its declared types differ in details.
    ...(WebSocket ? { WebSocket: WebSocket as typeof globalThis.WebSocket } : {}),
    connectionParams: async () => {
      socketToken = await session.accessToken();
      return { token: socketToken ?? "" };
    },
    retryDelayMs,
    lazy: { enabled: false, closeMs: 0 },
    // Notice a dead connection (sleep, network change) within seconds instead of minutes.
    keepAlive: { enabled: true, intervalMs: 15_000, pongTimeoutMs: 5_000 },
  });

  const bearer = (context: Record<string, unknown>): Record<string, string> => {
    const token = tokenOf(context);
    return token ? { Authorization: `Bearer ${token}` } : {};
  };
  const url = trpcHttpUrl(baseUrl);
  const api = createTRPCClient<AppRouter>({
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
          true: httpLink({ url, headers: ({ op }) => bearer(op.context) }),
          false: httpBatchLink({
            url,
            maxURLLength: 4_000,
            // Past the server's cap the whole batch is refused; tRPC splits larger ones.
            maxItems: MAX_CALLS_PER_BATCH,
            headers: ({ opList }) => bearer(opList[0].context),
          }),
        }),
      }),
    ],
  });

  // A new access token: reconnect the socket so it authenticates with it (connectionParams runs on
  // every connect). Subscriptions resume from their last event id.
  let lastToken = session.currentAccessToken();
  const stopFollowingSession = session.subscribe(() => {
    const token = session.currentAccessToken();
    if (token && token !== lastToken) {
      lastToken = token;
      const connection = wsClient.connection;
      if (connection?.state === "open") connection.ws.close(4000, "new access token");
    }
  });

  return {
    api,
    socketToken: () => socketToken,
    async close() {
      stopFollowingSession();
      await wsClient.close();
    },
  };
}
