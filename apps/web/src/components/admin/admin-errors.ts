import { OFFLINE_MESSAGE, toApiFailure, UNEXPECTED_MESSAGE } from "@parley/client";

/** An admin call's failure in words: the server's own sentence where it has one (its messages are written for people). */
export function adminErrorText(error: unknown): string {
  const failure = toApiFailure(error);
  if (failure.code === null) return OFFLINE_MESSAGE;
  if (failure.code === "FORBIDDEN") return "Only admins may do this, and you are no longer one.";
  if (failure.code === "INTERNAL_SERVER_ERROR") return UNEXPECTED_MESSAGE;
  return error instanceof Error && error.message ? error.message : UNEXPECTED_MESSAGE;
}
