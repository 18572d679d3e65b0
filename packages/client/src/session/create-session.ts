// A Session wired to a Parley server: refresh and logout through its public API, real timers.
import { sessionEndedNotice, toApiFailure } from "../errors";
import { createPublicClient, type PublicClient } from "../transport/public-client";
import { singleProcess, type SessionCoordination } from "./coordination";
import { Session } from "./session";
import { memorySessionStore, type SessionStore } from "./store";

export interface CreateSessionOptions {
  api: PublicClient;
  store: SessionStore;
  /** Who else shares the stored session; one process alone by default (browserTabs() in a browser). */
  coordination?: SessionCoordination;
}

export function createSession({ api, store, coordination = singleProcess() }: CreateSessionOptions): Session {
  return new Session({
    store,
    ...coordination,
    async refresh(refreshToken) {
      try {
        return { ok: true, tokens: await api.auth.refresh.mutate({ refreshToken }) };
      } catch (error) {
        // Only a refusal ends the session; no answer (offline, restarting) is tried again later.
        const failure = toApiFailure(error);
        return { ok: false, rejected: failure.code === "UNAUTHORIZED" || failure.code === "BAD_REQUEST", notice: sessionEndedNotice(failure) };
      }
    },
    async logout(refreshToken) {
      await api.auth.logout.mutate({ refreshToken });
    },
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  });
}

export interface PasswordSignIn {
  baseUrl: string;
  username: string;
  password: string;
  /** Where the tokens are kept; memory by default (a process that logs in each time it starts). */
  store?: SessionStore;
}

/** Logs in with a password and starts the session: the way a script or a bot begins. */
export async function signInWithPassword({ baseUrl, username, password, store = memorySessionStore() }: PasswordSignIn): Promise<{ session: Session; userId: string }> {
  const api = createPublicClient(baseUrl);
  const session = createSession({ api, store });
  await session.start();
  await session.signIn(await api.auth.login.mutate({ username, password }));
  const state = session.getState();
  if (state.status !== "signedIn") throw new Error("The server's tokens did not give a session");
  return { session, userId: state.userId };
}
