import { useSyncExternalStore } from "react";
import type { RuntimeManager } from "./app/runtime-manager";
import { AuthScreen } from "./components/AuthScreen";
import { ChatApp } from "./components/ChatApp";
import type { PublicClient, Session } from "@parley/client";

interface AppProps {
  manager: RuntimeManager;
  session: Session;
  api: PublicClient;
}

export function App({ manager, session, api }: AppProps) {
  const { session: state, runtime } = useSyncExternalStore(manager.subscribe, manager.getSnapshot);
  const signOut = () => {
    // The next person to log in here starts from the list, not from this one's conversation.
    window.location.hash = "#/";
    // Nothing of theirs stays in this browser: unsent messages and drafts go first.
    void (runtime ? runtime.forget() : Promise.resolve()).then(() => session.signOut());
  };
  if (runtime) return <ChatApp key={runtime.userId} runtime={runtime} onSignOut={signOut} />;
  // Reading the stored session takes a moment; show nothing rather than a login form that vanishes.
  if (state.status === "loading") return <div className="splash" aria-busy="true" />;
  return <AuthScreen api={api} notice={state.status === "signedOut" ? state.notice : null} onSignedIn={(tokens) => session.signIn(tokens)} />;
}
