// The client for calls that need no login: sign up, log in, refresh and log out.
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "@parley/api";
import { trpcHttpUrl } from "./urls";

export function createPublicClient(baseUrl: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: trpcHttpUrl(baseUrl) })] });
}

export type PublicClient = ReturnType<typeof createPublicClient>;
