// Creates the signed-in runtime when a user signs in (here or in another tab) and disposes of it
// when they sign out or the session ends, outside React so that nothing is created twice.
import { createUserRuntime, type UserRuntime } from "./runtime";
import type { Session, SessionState } from "@parley/client";

export interface AppSnapshot {
  session: SessionState;
  runtime: UserRuntime | null;
}

export class RuntimeManager {
  private snapshot: AppSnapshot;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly session: Session,
    private readonly create: (session: Session, userId: string) => UserRuntime = createUserRuntime,
  ) {
    this.snapshot = { session: session.getState(), runtime: null };
    session.subscribe(() => this.sync());
    this.sync();
  }

  getSnapshot = (): AppSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private sync(): void {
    const state = this.session.getState();
    let runtime = this.snapshot.runtime;
    const userId = state.status === "signedIn" ? state.userId : null;
    if (runtime && runtime.userId !== userId) {
      runtime.dispose();
      runtime = null;
    }
    if (!runtime && userId) runtime = this.create(this.session, userId);
    // A refreshed token changes the session but nothing the screen shows.
    const unchanged = runtime === this.snapshot.runtime && state.status === "signedIn" && this.snapshot.session.status === "signedIn";
    if (unchanged) return;
    this.snapshot = { session: state, runtime };
    for (const listener of [...this.listeners]) listener();
  }
}
