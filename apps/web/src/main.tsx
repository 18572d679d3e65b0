import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { browserSessionStore, browserTabs, createPublicClient, createSession } from "@parley/client";
import { App } from "./App";
import { RuntimeManager } from "./app/runtime-manager";
import "./styles.css";

// The API is on the app's own origin.
const api = createPublicClient(window.location.origin);
const session = createSession({ api, store: browserSessionStore(), coordination: browserTabs() });
void session.start();
const manager = new RuntimeManager(session);

// The app's shell for reloads while the server cannot be reached (public/sw.js). Not in development,
// where Vite serves files that change with every edit.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch((error: unknown) => console.warn("Parley works without its offline shell:", error));
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App manager={manager} session={session} api={api} />
  </StrictMode>,
);
