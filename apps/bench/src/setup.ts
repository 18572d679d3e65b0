// Users and conversations are made through Parley's own API, as any client would make them. This
// is setup, not measurement: argon2 makes sign-up and login slow on purpose.
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "@parley/api";

export const BENCH_PASSWORD = "bench-password-1";

export interface BenchUser {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
}

export function apiClient(url: string, accessToken?: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: () => (accessToken ? { authorization: `Bearer ${accessToken}` } : {}) })],
  });
}

/** Runs `task(0..count-1)`, at most `concurrency` at a time, giving up (throwing) after `timeoutMs`. */
export async function inParallel<T>(count: number, concurrency: number, task: (index: number) => Promise<T>, timeoutMs = 600_000): Promise<T[]> {
  const results = new Array<T>(count);
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms with ${count - next} of ${count} tasks left`);
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Signs up and logs in `count` new users named `<prefix><n>`. */
export async function signUpUsers(url: string, count: number, prefix: string, concurrency = 8): Promise<BenchUser[]> {
  const api = apiClient(url);
  return inParallel(count, concurrency, async (i) => {
    const username = `${prefix}${i}`;
    const user = await api.auth.signup.mutate({ username, password: BENCH_PASSWORD });
    const tokens = await api.auth.login.mutate({ username, password: BENCH_PASSWORD });
    return { id: user.id, username, ...tokens };
  });
}

/**
 * Fresh access tokens (they live 30 minutes) for users of a copied database: auth.refresh costs no
 * argon2. Each copy of a template starts with the template's unused refresh tokens.
 */
export function refreshUsers(url: string, users: readonly BenchUser[], concurrency = 8): Promise<BenchUser[]> {
  const api = apiClient(url);
  return inParallel(users.length, concurrency, async (i) => {
    const user = users[i] as BenchUser;
    const tokens = await api.auth.refresh.mutate({ refreshToken: user.refreshToken });
    return { ...user, ...tokens };
  });
}

/** Logs in again (argon2 on the server): what scenario 5 measures the side effects of. */
export async function logIn(url: string, user: BenchUser): Promise<number> {
  const started = performance.now();
  await apiClient(url).auth.login.mutate({ username: user.username, password: BENCH_PASSWORD });
  return performance.now() - started;
}

/** One group conversation per room (member indexes into `users`), each created by its first member. */
export function createConversations(url: string, users: readonly BenchUser[], rooms: readonly number[][], concurrency = 8): Promise<string[]> {
  return inParallel(rooms.length, concurrency, async (r) => {
    const [owner, ...others] = (rooms[r] ?? []).map((m) => users[m] as BenchUser);
    if (!owner || others.length === 0) throw new Error("a room needs at least two members");
    const conversation = await apiClient(url, owner.accessToken).conversation.create.mutate({
      title: `bench room ${r}`,
      memberIds: others.map((u) => u.id),
    });
    return conversation.id;
  });
}
