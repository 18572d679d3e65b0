import { describe, expect, it } from "vitest";
import { ACCOUNT_DEACTIVATED_MESSAGE, OFFLINE_MESSAGE, describeAuthError, describeError, describeSendError, formatWait, isWorthRetrying, retryDelayMs, toApiFailure } from "../src/errors";

const apiError = (data: Record<string, unknown>) => Object.assign(new Error("x"), { data });

describe("toApiFailure", () => {
  it("reads the code, issues and retry time", () => {
    expect(toApiFailure(apiError({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 30 }))).toEqual({
      code: "TOO_MANY_REQUESTS",
      issues: [],
      retryAfterSeconds: 30,
      reason: null,
    });
  });

  it("reads why the server refused, when it says", () => {
    expect(toApiFailure(apiError({ code: "UNAUTHORIZED", reason: "account_deactivated" })).reason).toBe("account_deactivated");
    expect(toApiFailure(apiError({ code: "UNAUTHORIZED", reason: 7 })).reason).toBeNull();
  });

  it("treats an error without data as no answer from the server", () => {
    expect(toApiFailure(new TypeError("Failed to fetch")).code).toBeNull();
  });
});

describe("describeAuthError", () => {
  it("says a name is taken next to the username", () => {
    expect(describeAuthError(apiError({ code: "CONFLICT" }), "signup").fields.username).toBe("That username is taken. Try another one.");
  });

  it("says wrong username or password without saying which", () => {
    expect(describeAuthError(apiError({ code: "UNAUTHORIZED" }), "login").form).toBe("Wrong username or password.");
  });

  it("says an account was deactivated, not that the password was wrong", () => {
    expect(describeAuthError(apiError({ code: "UNAUTHORIZED", reason: "account_deactivated" }), "login").form).toBe(ACCOUNT_DEACTIVATED_MESSAGE);
  });

  it("passes on the server's words for a signup the mode or the invite does not allow", () => {
    const refused = Object.assign(new Error("This invite link has expired. Ask an admin for a new one."), { data: { code: "FORBIDDEN", reason: "invite_invalid" } });
    expect(describeAuthError(refused, "signup").form).toBe("This invite link has expired. Ask an admin for a new one.");
  });

  it("says when to try again after too many attempts", () => {
    expect(describeAuthError(apiError({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 840 }), "login").form).toBe(
      "Too many attempts. Try again in 14 minutes.",
    );
  });

  it("puts validation problems next to their fields, as sentences", () => {
    const errors = describeAuthError(
      apiError({ code: "BAD_REQUEST", issues: [{ path: "password", message: "password must be 8 to 128 characters" }] }),
      "signup",
    );
    expect(errors).toEqual({ form: null, fields: { password: "Password must be 8 to 128 characters." } });
  });

  it("explains an unreachable server", () => {
    expect(describeAuthError(new TypeError("Failed to fetch"), "login").form).toBe(OFFLINE_MESSAGE);
  });
});

describe("describeSendError", () => {
  it("treats no answer as transient", () => {
    expect(describeSendError(new TypeError("Failed to fetch"), 4000).transient).toBe(true);
  });

  it("says a message is too long", () => {
    const failure = describeSendError(
      apiError({ code: "BAD_REQUEST", issues: [{ path: "content", message: "message must be 1 to 4000 characters" }] }),
      4000,
    );
    expect(failure).toEqual({ transient: false, message: "Not sent: a message can be at most 4,000 characters." });
  });

  it("says when the sender is not allowed", () => {
    expect(describeSendError(apiError({ code: "FORBIDDEN" }), 4000).message).toBe("Not sent: you are not a member of this conversation.");
  });
});

describe("describeError", () => {
  it("turns codes into plain words", () => {
    expect(describeError(apiError({ code: "FORBIDDEN" }))).toBe("You are not allowed to see this conversation.");
    expect(describeError(apiError({ code: "NOT_FOUND" }))).toBe("This conversation does not exist.");
  });
});

describe("formatWait", () => {
  it("rounds up to whole units", () => {
    expect(formatWait(1)).toBe("1 second");
    expect(formatWait(59.2)).toBe("60 seconds");
    expect(formatWait(61)).toBe("2 minutes");
    expect(formatWait(3600)).toBe("1 hour");
  });
});

describe("isWorthRetrying", () => {
  it("retries when no answer came, the server failed, or it asked to slow down", () => {
    expect(isWorthRetrying(new TypeError("Failed to fetch"))).toBe(true);
    expect(isWorthRetrying(apiError({ code: "INTERNAL_SERVER_ERROR" }))).toBe(true);
    expect(isWorthRetrying(apiError({ code: "SERVICE_UNAVAILABLE" }))).toBe(true);
    expect(isWorthRetrying(apiError({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 5 }))).toBe(true);
  });

  it("retries a batch the server refused for its size", () => {
    const refused = Object.assign(new Error("Batch call exceeds maximum size"), { data: { code: "BAD_REQUEST" } });
    expect(isWorthRetrying(refused)).toBe(true);
  });

  it("does not retry a refusal that would repeat", () => {
    expect(isWorthRetrying(apiError({ code: "BAD_REQUEST", issues: [{ path: "limit", message: "too big" }] }))).toBe(false);
    expect(isWorthRetrying(apiError({ code: "FORBIDDEN" }))).toBe(false);
    expect(isWorthRetrying(apiError({ code: "NOT_FOUND" }))).toBe(false);
    expect(isWorthRetrying(apiError({ code: "UNAUTHORIZED" }))).toBe(false);
  });
});

describe("retryDelayMs", () => {
  it("waits at least as long as the server asked", () => {
    expect(retryDelayMs(apiError({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 7 }), 1_000)).toBe(7_000);
  });

  it("keeps the backoff when it is longer, or when the server named no time", () => {
    expect(retryDelayMs(apiError({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 1 }), 4_000)).toBe(4_000);
    expect(retryDelayMs(new TypeError("Failed to fetch"), 2_500)).toBe(2_500);
  });
});
