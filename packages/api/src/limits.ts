// Limits that clients must know to stay within them. This module imports nothing, so a browser
// bundle can take it (`@parley/api/limits`) without pulling in the server.

/** Calls in one batched HTTP request, and in one WebSocket frame. Past it the server refuses the batch. */
export const MAX_CALLS_PER_BATCH = 20;

/** Conversations in one page of conversation.list (its largest `limit`). */
export const CONVERSATION_PAGE_MAX = 100;
/** Most user ids one user.presence call may name (a page of user.list). */
export const PRESENCE_QUERY_MAX = 200;

// The text rules of docs/api.md, shared by the server's schemas (schemas.ts) and the clients'
// checks while typing, so that the two cannot disagree.

export const USERNAME_LENGTH = { min: 3, max: 32 } as const;
export const USERNAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;
export const PASSWORD_LENGTH = { min: 8, max: 128 } as const;
/** Full names and conversation titles, after NFC and trimming. */
export const MAX_DISPLAY_TEXT_LENGTH = 100;
/** Message content, counted after NFC normalisation. */
export const MAX_MESSAGE_LENGTH = 4000;

/** Letters that render as nothing: Hangul fillers and the blank braille pattern. */
const INVISIBLE_LETTERS = "\u115F\u1160\u3164\uFFA0\u2800";
const BLANK = new RegExp(`^[\\s\\p{Cf}\\p{Cc}${INVISIBLE_LETTERS}]*$`, "u");

/** True when the text shows nothing: only white space, format, control or invisible characters. */
export const isBlankText = (s: string) => BLANK.test(s);
