// Limits that clients must know to stay within them. This module imports nothing, so a browser
// bundle can take it (`@parley/api/limits`) without pulling in the server.

/** Calls in one batched HTTP request, and in one WebSocket frame. Past it the server refuses the batch. */
export const MAX_CALLS_PER_BATCH = 20;
