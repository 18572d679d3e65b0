// The admin page (#/admin), for admins only: server health (a slot for the metrics work), the
// signup mode, invite links, people, and the audit log.
import { useEffect, useRef } from "react";
import type { User } from "@parley/client";
import { trpc } from "../../trpc";
import { BackIcon } from "../icons";
import { AuditPanel } from "./AuditPanel";
import { InvitesPanel } from "./InvitesPanel";
import { ServerHealthSlot } from "./ServerHealthSlot";
import { SignupModePanel } from "./SignupModePanel";
import { UsersPanel } from "./UsersPanel";

interface AdminPageProps {
  me: User;
  onBack(): void;
}

/**
 * How often the page asks again while it is in view. Nothing here follows the live feed (people
 * sign up and log in without telling admins' apps): the lists are asked again every few seconds
 * while the page is visible, and at once when the window comes back into view.
 */
const ADMIN_REFRESH_MS = 10_000;

export function AdminPage({ me, onBack }: AdminPageProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const utils = trpc.useUtils();
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    const refresh = () => {
      if (document.visibilityState === "visible") void utils.admin.invalidate();
    };
    const timer = setInterval(refresh, ADMIN_REFRESH_MS);
    window.addEventListener("focus", refresh);
    document.addEventListener("visibilitychange", refresh);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", refresh);
      document.removeEventListener("visibilitychange", refresh);
    };
  }, [utils]);
  return (
    <section className="admin" aria-labelledby="admin-title">
      <header className="conversation__header">
        <button type="button" className="icon-button conversation__back" onClick={onBack}>
          <BackIcon />
          <span className="sr-only">Back to conversations</span>
        </button>
        <div className="conversation__heading">
          <h2 id="admin-title" ref={heading} tabIndex={-1}>
            Admin
          </h2>
          <p className="conversation__subtitle">People, signups, invites and the audit log of this server</p>
        </div>
        {/* Asked again every ADMIN_REFRESH_MS anyway; this is for not waiting. */}
        <button type="button" className="button button--quiet admin__refresh" onClick={() => void utils.admin.invalidate()}>
          Refresh
        </button>
      </header>
      <div className="admin__body">
        <ServerHealthSlot />
        <SignupModePanel />
        <InvitesPanel />
        <UsersPanel me={me} />
        <AuditPanel />
      </div>
    </section>
  );
}
