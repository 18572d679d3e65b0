import { createContext, useContext, useSyncExternalStore } from "react";
import type { UserRuntime } from "./runtime";
import type { ChatState } from "@parley/client";

export const RuntimeContext = createContext<UserRuntime | null>(null);

export function useRuntime(): UserRuntime {
  const runtime = useContext(RuntimeContext);
  if (!runtime) throw new Error("useRuntime must be used inside a signed-in app");
  return runtime;
}

/** Reads part of the chat store; `select` must return something that keeps its identity while unchanged. */
export function useChat<T>(select: (state: ChatState) => T): T {
  const { chat } = useRuntime();
  return useSyncExternalStore(chat.subscribe, () => select(chat.getState()));
}
