import { useEffect, useReducer } from "react";
import type { FileUrl } from "@parley/client";
import { useRuntime } from "./context";

/**
 * The signed URLs of these attachments (undefined until known), from the runtime's cache: asked for
 * once shown, and again before they expire, so a tab left open keeps showing its pictures.
 */
export function useFileUrls(ids: readonly string[]): (id: string) => FileUrl | undefined {
  const { fileUrls } = useRuntime();
  const [version, changed] = useReducer((n: number) => n + 1, 0);
  useEffect(() => fileUrls.subscribe(changed), [fileUrls]);
  useEffect(() => {
    if (ids.length === 0) return;
    fileUrls.request(ids);
    const at = fileUrls.renewAt(ids);
    if (at === null) return;
    const timer = setTimeout(() => fileUrls.request(ids), Math.max(1_000, at - Date.now()));
    return () => clearTimeout(timer);
    // `version`: after each answer, the timer follows the new expiry.
  }, [fileUrls, ids, version]);
  return (id) => fileUrls.get(id);
}
