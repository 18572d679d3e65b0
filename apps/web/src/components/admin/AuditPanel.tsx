import { useId, useState } from "react";
import { AUDIT_KIND_LABELS, describeAuditEntry, type AuditKind } from "../../lib/audit";
import { formatFull } from "../../lib/format";
import { trpc } from "../../trpc";
import { adminErrorText } from "./admin-errors";

/** The audit log, newest first: filtered by kind, and by a person picked from an entry. */
export function AuditPanel() {
  const id = useId();
  const [kind, setKind] = useState<AuditKind | "">("");
  const [person, setPerson] = useState<{ id: string; username: string } | null>(null);
  const log = trpc.admin.auditLog.useInfiniteQuery(
    { kind: kind || undefined, userId: person?.id, limit: 25 },
    { getNextPageParam: (page) => page.nextCursor ?? undefined },
  );
  const items = log.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="admin__panel" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Audit log</h3>
      <div className="admin__row">
        <label>
          Show
          <select value={kind} onChange={(e) => setKind(e.target.value as AuditKind | "")}>
            <option value="">Everything</option>
            {Object.entries(AUDIT_KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {person && (
          <span className="chip">
            @{person.username}
            <button type="button" className="chip__remove" onClick={() => setPerson(null)}>
              <span aria-hidden="true">×</span>
              <span className="sr-only">Show everyone</span>
            </button>
          </span>
        )}
      </div>
      {log.error && !log.data && <p className="notice notice--error">{adminErrorText(log.error)}</p>}
      <ol className="admin-list" aria-label="Audit log entries">
        {items.map((entry) => {
          const about = entry.target ?? entry.actor;
          return (
            <li key={entry.id} className="admin-list__item" data-kind={entry.kind}>
              <div className="admin-list__who">
                <time className="admin__muted" dateTime={entry.at}>
                  {formatFull(entry.at)}
                </time>
                <span>{describeAuditEntry(entry)}</span>
                {entry.count > 1 && (
                  <span className="tag" title={`Last ${formatFull(entry.lastAt)}`}>
                    ×{entry.count}
                  </span>
                )}
                {entry.address && <span className="admin__muted">from {entry.address}</span>}
              </div>
              {about?.username && person?.id !== about.id && (
                <button type="button" className="button button--quiet" onClick={() => setPerson({ id: about.id, username: about.username })}>
                  Only @{about.username}
                </button>
              )}
            </li>
          );
        })}
      </ol>
      {log.data && items.length === 0 && <p className="admin__muted">Nothing recorded{kind || person ? " that matches" : ""}.</p>}
      {log.hasNextPage && (
        <button type="button" className="button button--quiet" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
          Older entries
        </button>
      )}
    </section>
  );
}
