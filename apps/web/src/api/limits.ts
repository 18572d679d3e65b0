// The server's limits that decide how this client talks to it. Each must equal the server's value:
// a client that goes past one is refused, whole batch at a time.

/**
 * Calls in one batched HTTP request. Must equal MAX_BATCH in apps/server/src/http-handler.ts (the
 * WebSocket's maxBatch in apps/server/src/ws-guard.ts is the same number): the server refuses a
 * larger batch whole, every call in it failing with "Batch call exceeds maximum size".
 */
export const MAX_CALLS_PER_BATCH = 20;
