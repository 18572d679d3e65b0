import { useEffect, useState } from "react";

/** `value`, once it has stayed the same for `ms` (a pause in typing before asking the server). */
export function useDebounced(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
