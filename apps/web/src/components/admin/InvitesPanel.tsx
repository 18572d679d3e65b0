import { useId, useRef, useState, type FormEvent } from "react";
import { formatFull } from "../../lib/format";
import { inviteLink } from "../../lib/signup";
import { trpc } from "../../trpc";
import { adminErrorText } from "./admin-errors";

const USES = [1, 5, 10, 25, 100, 1000];
const EXPIRIES: [hours: number, label: string][] = [
  [1, "1 hour"],
  [24, "1 day"],
  [168, "7 days"],
  [720, "30 days"],
];
const STATE_LABELS = { valid: "Active", expired: "Expired", revoked: "Revoked", used_up: "Used up" } as const;

export function InvitesPanel() {
  const id = useId();
  const utils = trpc.useUtils();
  const [uses, setUses] = useState(1);
  const [hours, setHours] = useState(168);
  const [created, setCreated] = useState<string | null>(null);
  const [copied, setCopied] = useState<"yes" | "select" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const linkRef = useRef<HTMLInputElement>(null);
  const invites = trpc.admin.invites.useInfiniteQuery({ limit: 20 }, { getNextPageParam: (page) => page.nextCursor ?? undefined });
  const changed = () => {
    void utils.admin.invites.invalidate();
    void utils.admin.auditLog.invalidate();
    setError(null);
  };
  const create = trpc.admin.createInvite.useMutation({
    onSuccess: ({ token }) => {
      setCreated(inviteLink(window.location.origin, token));
      setCopied(null);
      changed();
    },
    onError: (e) => setError(adminErrorText(e)),
  });
  const revoke = trpc.admin.revokeInvite.useMutation({ onSuccess: changed, onError: (e) => setError(adminErrorText(e)) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ maxUses: uses, expiresInHours: hours });
  };
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created);
      setCopied("yes");
    } catch {
      // No clipboard here (an insecure origin, a refused permission): the link is selected instead.
      linkRef.current?.select();
      setCopied("select");
    }
  };

  const items = invites.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="admin__panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Invite links</h3>
      <form className="admin__row" onSubmit={submit}>
        <label>
          Signups
          <select value={uses} onChange={(e) => setUses(Number(e.target.value))}>
            {USES.map((n) => (
              <option key={n} value={n}>
                {n === 1 ? "1 person" : `${n} people`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Expires after
          <select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {EXPIRIES.map(([h, label]) => (
              <option key={h} value={h}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create invite link"}
        </button>
      </form>
      {created && (
        <div className="admin__created">
          <label htmlFor={`${id}-link`}>New invite link - shown only now, copy it and send it on</label>
          <div className="admin__row">
            <input id={`${id}-link`} ref={linkRef} className="admin__link" readOnly value={created} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" className="button" onClick={() => void copy()}>
              {copied === "yes" ? "Copied" : "Copy link"}
            </button>
          </div>
          {copied === "select" && <p className="admin__muted">The link is selected: copy it with your keyboard.</p>}
        </div>
      )}
      {error && (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      )}
      {invites.error && !invites.data && <p className="notice notice--error">{adminErrorText(invites.error)}</p>}
      {items.length > 0 && (
        <ul className="admin-list" aria-label="Invites">
          {items.map((invite) => (
            <li key={invite.id} className="admin-list__item" data-invite-state={invite.state}>
              <div className="admin-list__who">
                <span className={`tag tag--${invite.state}`}>{STATE_LABELS[invite.state]}</span>
                <span>
                  {invite.uses} of {invite.maxUses} used
                </span>
                <span className="admin__muted">
                  {invite.state === "expired" ? "expired" : "expires"} {formatFull(invite.expiresAt)}
                  {invite.createdBy ? ` · by @${invite.createdBy.username}` : ""}
                </span>
              </div>
              {invite.state === "valid" && (
                <button type="button" className="button button--danger-quiet" disabled={revoke.isPending} onClick={() => revoke.mutate({ inviteId: invite.id })}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {invites.hasNextPage && (
        <button type="button" className="button button--quiet" disabled={invites.isFetchingNextPage} onClick={() => void invites.fetchNextPage()}>
          More invites
        </button>
      )}
    </section>
  );
}
