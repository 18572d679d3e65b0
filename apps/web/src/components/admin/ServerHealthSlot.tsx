import { trpc } from "../../trpc";
import { adminErrorText } from "./admin-errors";

/** How often the panel asks again while the admin page is open. */
const REFRESH_MS = 5_000;

const rate = (perSecond: number) => (perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1));
const ms = (value: number | null) => (value === null ? "-" : value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const count = (n: number) => n.toLocaleString("en-US");

/**
 * Server health at a glance: the numbers /metrics serves, of the instance that answered (each
 * instance counts its own), asked again every few seconds while the page is open.
 */
export function ServerHealthSlot() {
  const health = trpc.admin.health.useQuery(undefined, { refetchInterval: REFRESH_MS });
  const data = health.data;
  const figures: [string, string][] =
    data === undefined || data === null
      ? []
      : [
          ["Connections", count(data.connections)],
          ["Live subscriptions", count(data.subscriptions)],
          ["Messages / s", rate(data.messagesPerSecond)],
          ["Deliveries / s", rate(data.deliveriesPerSecond)],
          ["Delivery lag (mean)", ms(data.meanDeliveryLagMs)],
          ["Send latency (mean)", ms(data.meanSendLatencyMs)],
          ["Event-loop delay (p99)", ms(data.eventLoopDelayP99Ms)],
          ["Refused by limits / s", rate(data.rateLimitedPerSecond)],
          ["Redis", data.redis === null ? "not used" : data.redis],
          ["Memory (RSS)", mib(data.memory.rssBytes)],
          ["Messages since start", count(data.totals.messages)],
        ];
  return (
    <section className="admin__panel" aria-labelledby="admin-health-title" data-panel="server-health">
      <h3 id="admin-health-title">Server health</h3>
      {health.error && <p className="notice notice--error">{adminErrorText(health.error)}</p>}
      {health.isPending && <p className="admin__muted">Loading...</p>}
      {data === null && <p className="admin__muted">Metrics are off on this server (METRICS=off).</p>}
      {data !== undefined && data !== null && (
        <>
          <dl className="admin__figures">
            {figures.map(([label, value]) => (
              <div key={label} className="admin__figure" data-figure={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <p className="admin__muted">
            This instance, over the last {Math.max(1, Math.round(data.windowSeconds))} s; every instance serves its own numbers at /metrics.
          </p>
        </>
      )}
    </section>
  );
}
