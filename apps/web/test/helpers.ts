// Test data: messages as @parley/client's own tests make them, and a stand-in for localStorage.
export { message } from "@parley/client/testing";

/** localStorage's interface over a Map, shared like a browser's by every page of the origin. */
export function fakeStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}
