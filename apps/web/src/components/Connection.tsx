import { useEffect, useState } from "react";
import { useChat } from "../app/context";
import { connectionLabel, connectionStatus, type ConnectionStatus } from "../lib/connection";

/** Brief drops (a token change reconnects the socket) are not worth a flash of "Reconnecting…". */
const SHOW_AFTER_MS = 1500;

export function useConnectionStatus(): ConnectionStatus {
  const connection = useChat((s) => s.connection);
  const actual = connectionStatus(connection);
  const [shown, setShown] = useState<ConnectionStatus>(actual);
  useEffect(() => {
    if (actual === "connected" || actual === "offline") {
      setShown(actual);
      return;
    }
    const timer = setTimeout(() => setShown(actual), SHOW_AFTER_MS);
    return () => clearTimeout(timer);
  }, [actual]);
  return shown;
}

/** A small status pill; announced politely when it changes. */
export function ConnectionPill() {
  const status = useConnectionStatus();
  return (
    <div className={`pill pill--${status}`} role="status" data-connection={status}>
      <span className="pill__dot" aria-hidden="true" />
      <span className="pill__label">{connectionLabel[status]}</span>
    </div>
  );
}

/** Said in the conversation itself when messages cannot flow right now. */
export function ConnectionBanner() {
  const status = useConnectionStatus();
  if (status === "connected" || status === "connecting") return null;
  return (
    <div className={`banner banner--${status}`}>
      {status === "offline"
        ? "You are offline. Messages you send will go out when you are back online."
        : "Reconnecting… Messages you send will go out as soon as the connection is back."}
    </div>
  );
}
