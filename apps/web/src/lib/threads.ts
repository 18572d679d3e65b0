// A thread opened from its address (a reload, a link) knows only its root's id. The contract has no
// call for one message, but message.list's cursor is a message id and a page holds the messages
// before it: the newest one before the id that follows the root is the root itself, when the id
// names a message of the conversation's main list (a thread's root always is).

/** Message ids as the API writes them: decimal, within a signed 64-bit integer. */
const MESSAGE_ID = /^[1-9][0-9]{0,18}$/;
const MAX_MESSAGE_ID = 2n ** 63n - 1n;

/** The message.list input whose one item is the root `rootId`, if it is one; null for an id no message can have. */
export function threadRootInput(conversationId: string, rootId: string): { conversationId: string; cursor: string; limit: 1 } | null {
  if (!MESSAGE_ID.test(rootId)) return null;
  const next = BigInt(rootId) + 1n;
  if (next > MAX_MESSAGE_ID) return null;
  return { conversationId, cursor: next.toString(), limit: 1 };
}
