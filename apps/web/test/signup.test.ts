import { describe, expect, it } from "vitest";
import { describeAuditEntry } from "../src/lib/audit";
import { inviteLink, inviteTokenFrom, signupScreen } from "../src/lib/signup";

describe("inviteTokenFrom", () => {
  it("reads /invite/<token> and ?invite=<token>", () => {
    expect(inviteTokenFrom({ pathname: "/invite/abc_DEF-123", search: "" })).toBe("abc_DEF-123");
    expect(inviteTokenFrom({ pathname: "/invite/abc/", search: "" })).toBe("abc");
    expect(inviteTokenFrom({ pathname: "/", search: "?invite=xyz" })).toBe("xyz");
  });

  it("finds none elsewhere, or in a malformed address", () => {
    expect(inviteTokenFrom({ pathname: "/", search: "" })).toBeNull();
    expect(inviteTokenFrom({ pathname: "/invites/abc", search: "" })).toBeNull();
    expect(inviteTokenFrom({ pathname: "/invite/%E0%A4%A", search: "" })).toBeNull();
    expect(inviteTokenFrom({ pathname: "/", search: "?invite=" })).toBeNull();
  });

  it("is the inverse of the link an admin copies", () => {
    const link = new URL(inviteLink("https://chat.example.com", "t0k-en_"));
    expect(inviteTokenFrom(link)).toBe("t0k-en_");
  });
});

describe("signupScreen", () => {
  it("shows the form in open mode, and to the first account with a note that it will be the admin", () => {
    expect(signupScreen({ mode: "open", firstAccount: false, invite: null })).toEqual({ form: true, note: null });
    expect(signupScreen({ mode: "closed", firstAccount: true, invite: null })).toMatchObject({ form: true, note: expect.stringMatching(/admin/) });
  });

  it("says invite only without a valid invite, and shows the form with one", () => {
    expect(signupScreen({ mode: "invite", firstAccount: false, invite: null })).toMatchObject({ form: false, title: "Invite only" });
    expect(signupScreen({ mode: "invite", firstAccount: false, invite: "valid" })).toEqual({ form: true, note: "You have been invited to this Parley server." });
    expect(signupScreen({ mode: "invite", firstAccount: false, invite: "expired" })).toMatchObject({ form: false, message: expect.stringMatching(/expired/) });
  });

  it("says signups are closed, whatever the invite", () => {
    expect(signupScreen({ mode: "closed", firstAccount: false, invite: "valid" })).toMatchObject({ form: false, title: "Signups are closed" });
  });

  it("in open mode, a spoilt invite is mentioned but does not hide the form", () => {
    expect(signupScreen({ mode: "open", firstAccount: false, invite: "used_up" })).toMatchObject({ form: true, note: expect.stringMatching(/without it/) });
  });

  it("shows the form while the mode is not known", () => {
    expect(signupScreen(null)).toEqual({ form: true, note: null });
  });
});

describe("describeAuditEntry", () => {
  const base = { id: "1", at: "2030-01-01T00:00:00.000Z", lastAt: "2030-01-01T00:00:00.000Z", count: 1, actor: null, target: null, username: null, address: null, data: {} };
  const ann = { id: "a", username: "ann" };
  const bob = { id: "b", username: "bob" };

  it("names who acted and on whom", () => {
    expect(describeAuditEntry({ ...base, kind: "user.deactivated", actor: ann, target: bob })).toBe("@ann deactivated @bob");
    expect(describeAuditEntry({ ...base, kind: "user.promoted", target: ann, data: { by: "first account" } })).toBe("The server made @ann an admin (first account)");
    expect(describeAuditEntry({ ...base, kind: "signup_mode.changed", actor: ann, data: { from: "open", to: "invite" } })).toBe("@ann changed signups from open to invite only");
  });

  it("tells a failed login of a name that exists from one that does not, and the overflow row", () => {
    expect(describeAuditEntry({ ...base, kind: "login.failed", target: bob, username: "bob" })).toBe("Failed login as @bob");
    expect(describeAuditEntry({ ...base, kind: "login.failed", username: "root" })).toBe("Failed login as “root” (no such user)");
    expect(describeAuditEntry({ ...base, kind: "login.failed", data: { overflow: true } })).toMatch(/beyond/);
  });
});
