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

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App manager={manager} session={session} api={api} />
  </StrictMode>,
);
