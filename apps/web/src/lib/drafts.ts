// Unsent text per conversation, kept in localStorage so that a reload or a closed tab does not lose
// what someone was typing. One key per user; wiped on sign-out.
export interface Drafts {
  get(conversationId: string): string | undefined;
  set(conversationId: string, text: string): void;
  delete(conversationId: string): void;
  /** Forgets every draft of this user. */
  clear(): void;
}

type DraftStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export function draftsKey(userId: string): string {
  return `parley.drafts.${userId}`;
}

function read(storage: DraftStorage | null, key: string): Map<string, string> {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(key) ?? "{}");
    if (typeof parsed !== "object" || parsed === null) return new Map();
    return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return new Map();
  }
}

/** `storage` null (unavailable, refused): drafts live as long as the page. */
export function createDrafts(storage: DraftStorage | null, userId: string): Drafts {
  const key = draftsKey(userId);
  const drafts = read(storage, key);
  const save = () => {
    try {
      if (drafts.size === 0) storage?.removeItem(key);
      else storage?.setItem(key, JSON.stringify(Object.fromEntries(drafts)));
    } catch {
      // Full or refused: the draft stays in memory for this page.
    }
  };
  return {
    get: (conversationId) => drafts.get(conversationId),
    set(conversationId, text) {
      drafts.set(conversationId, text);
      save();
    },
    delete(conversationId) {
      if (drafts.delete(conversationId)) save();
    },
    clear() {
      drafts.clear();
      save();
    },
  };
}
