import { useState } from "react";
import type { SignupMode } from "@parley/api/schemas";
import { trpc } from "../../trpc";
import { adminErrorText } from "./admin-errors";

const MODES: { mode: SignupMode; label: string; description: string }[] = [
  { mode: "open", label: "Open", description: "Anyone who can reach this server may create an account." },
  { mode: "invite", label: "Invite only", description: "Only people with an invite link may sign up; others are told to ask an admin." },
  { mode: "closed", label: "Closed", description: "Nobody may sign up, not even with an invite link." },
];

export function SignupModePanel() {
  const utils = trpc.useUtils();
  const settings = trpc.admin.settings.useQuery();
  const [error, setError] = useState<string | null>(null);
  // The mode just clicked, shown at once: the radios are controlled, and the mutation's pending
  // state reaches React a moment after the click, so without this the first render after the
  // click would put the old mode back for a frame.
  const [chosen, setChosen] = useState<SignupMode | null>(null);
  const setMode = trpc.admin.setSignupMode.useMutation({
    onSettled: () => setChosen(null),
    onSuccess: (next) => {
      utils.admin.settings.setData(undefined, next);
      void utils.admin.auditLog.invalidate();
      setError(null);
    },
    onError: (e) => setError(adminErrorText(e)),
  });
  const current = chosen ?? settings.data?.signupMode;
  return (
    <section className="admin__panel" aria-labelledby="admin-signups-title">
      <h3 id="admin-signups-title">Signups</h3>
      {settings.error && <p className="notice notice--error">{adminErrorText(settings.error)}</p>}
      <fieldset className="admin__modes" disabled={!settings.data || setMode.isPending}>
        <legend className="sr-only">Who may sign up</legend>
        {MODES.map(({ mode, label, description }) => (
          <label key={mode} className="admin__mode">
            <input type="radio" name="signup-mode" value={mode} checked={current === mode} onChange={() => {
                setChosen(mode);
                setMode.mutate({ mode });
              }} />
            <span>
              <strong>{label}</strong>
              <span className="admin__muted">{description}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
