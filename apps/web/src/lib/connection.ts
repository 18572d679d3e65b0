// What the connection indicator says, from the WebSocket's state and the browser's.
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

export interface ConnectionFacts {
  /** The browser says it has a network. */
  online: boolean;
  /** The live subscription is running on an open socket. */
  live: boolean;
  /** It has been live at least once since the app started. */
  wasLive: boolean;
}

export function connectionStatus({ online, live, wasLive }: ConnectionFacts): ConnectionStatus {
  if (live) return "connected";
  if (!online) return "offline";
  return wasLive ? "reconnecting" : "connecting";
}

export const connectionLabel: Record<ConnectionStatus, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};
