import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { createPublicClient } from "./api/public-client";
import { RuntimeManager } from "./app/runtime-manager";
import { createBrowserSession } from "./session/browser-session";
import "./styles.css";

const api = createPublicClient();
const session = createBrowserSession(api);
void session.start();
const manager = new RuntimeManager(session);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App manager={manager} session={session} api={api} />
  </StrictMode>,
);
