// An outside client of the API (a script, a bot), over plain HTTP with @trpc/client.
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";

export type ApiClient = TRPCClient<AppRouter>;

export interface ApiUser {
  id: string;
  username: string;
  password: string;
  api: ApiClient;
}

export function anonymousClient(baseUrl: string): ApiClient {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc` })] });
}

/** Signs up (unless `existing`) and logs in; the client sends the access token on every call. */
export async function apiUser(baseUrl: string, username: string, password: string, fullName: string, existing = false): Promise<ApiUser> {
  const anon = anonymousClient(baseUrl);
  if (!existing) await anon.auth.signup.mutate({ username, password, fullName });
  const tokens = await anon.auth.login.mutate({ username, password });
  const api = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/trpc`, headers: () => ({ Authorization: `Bearer ${tokens.accessToken}` }) })],
  });
  const me = await api.auth.me.query();
  return { id: me.id, username: me.username, password, api };
}
