// The client for calls that need no login: sign up, log in, refresh and log out.
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { TRPC_HTTP_PATH } from "./urls";

export function createPublicClient() {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: TRPC_HTTP_PATH })] });
}

export type PublicClient = ReturnType<typeof createPublicClient>;
