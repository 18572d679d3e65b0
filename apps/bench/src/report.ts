// The results of one run: their JSON shape, the summary table with Parley/baseline ratios, the
// per-step tables and the chart's series.
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { latencyChart, type ChartSeries } from "./chart.js";
import type { KneeResult, TaggedStep } from "./knee.js";
import type { Params } from "./params.js";
import type { ProfileSummary } from "./profile.js";
import { median, type CpuCell, type CpuResult } from "./scenarios/cpu.js";
import type { DeliveryResult } from "./scenarios/delivery.js";
import type { HistoryResult } from "./scenarios/history.js";
import type { IdleResult } from "./scenarios/idle.js";
import type { LiveStateResult } from "./scenarios/live-state.js";
import type { LoginsResult } from "./scenarios/logins.js";
import type { PgOrderResult } from "./scenarios/pg-order.js";
import { SEARCH_P99_LIMIT_MS, type SearchRun } from "./scenarios/search.js";
import type { UploadResult } from "./scenarios/upload.js";
import { ratio } from "./stats.js";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
  /** Server on one core and generator on another (taskset). */
  pinned: boolean;
}

export interface BenchResults {
  mode: Params["mode"];
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  /** The checkout the bench ran from; `dirty`: uncommitted changes under packages/ or apps/server/. */
  git: { commit: string; dirty: boolean };
  /** The server measured: its bundle, and what it was built from. */
  server: { bundle: string; label: string };
  params: Params;
  s1: DeliveryResult | null;
  s1Postgres: DeliveryResult | null;
  s1Redis: DeliveryResult | null;
  s2: IdleResult | null;
  s3: DeliveryResult | null;
  s3Postgres: DeliveryResult | null;
  s4: HistoryResult[];
  s5: LoginsResult | null;
  /** Scenario 1 with the clients on sync.events (--only s1sync). */
  s1Sync?: DeliveryResult | null;
  /** Scenarios 6-8. */
  live?: LiveStateResult[];
  pgOrder?: PgOrderResult | null;
  search?: SearchRun[];
  upload?: UploadResult | null;
  /** Server CPU per delivery at fixed rates (--only cpu). */
  cpu?: CpuResult | null;
  /** Scenarios that could not run, and why. */
  failures: { scenario: string; error: string }[];
}

export interface Row {
  scenario: string;
  metric: string;
  parley: string;
  baseline: string;
  ratio: string;
  target: string;
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "-");
const ms = (value: number) => (value >= 100 ? fmt(value) : value >= 10 ? fmt(value, 1) : fmt(value, 2));
const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`;
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const times = (value: number | null, digits = 2) => (value === null ? "-" : `${value.toFixed(digits)}x`);

function kneeText(knee: KneeResult, roomSize: number): string {
  if (knee.bound === "none") return "below the first rate";
  const prefix = knee.bound === "rate-limit" || knee.bound === "generator" || knee.bound === "ladder-end" ? ">= " : "";
  return `${prefix}${fmt(knee.knee)} sends/s (${fmt(knee.knee * roomSize)} deliveries/s)`;
}

function boundNote(knee: KneeResult): string {
  switch (knee.bound) {
    case "rate-limit":
      return " [capped by the per-user send limit]";
    case "generator":
      return " [the generator ran out of CPU]";
    case "ladder-end":
      return " [passed every rate tried]";
    case "latency-or-loss":
    case "none":
      return "";
  }
}

function deliveryRows(result: DeliveryResult, baselineFrom: DeliveryResult | null, name: string): Row[] {
  const rows: Row[] = [];
  const baseline = result.baseline ?? baselineFrom?.baseline ?? null;
  const sameRun = result.baseline ? "" : baseline ? " (baseline: SQLite run's)" : "";
  rows.push({
    scenario: name,
    metric: `knee: p99 < 50 ms, nothing lost${sameRun}`,
    parley: kneeText(result.parley, result.roomSize) + boundNote(result.parley),
    baseline: baseline ? kneeText(baseline, result.roomSize) + boundNote(baseline) : "-",
    ratio: baseline ? times(ratio(result.parley.knee, baseline.knee), 3) : "-",
    target: result.id === "s1" ? ">= 0.5x" : "",
  });
  const atKnee = result.parley.atKnee;
  if (atKnee) {
    const baselineSame = result.baselineAtParleyKnee;
    rows.push({
      scenario: name,
      metric: `p50 / p99 at Parley's knee (${fmt(atKnee.rate)} sends/s), ms`,
      parley: `${ms(atKnee.latency.p50)} / ${ms(atKnee.latency.p99)}`,
      baseline: baselineSame ? `${ms(baselineSame.latency.p50)} / ${ms(baselineSame.latency.p99)}` : "-",
      ratio: baselineSame ? `p99 ${times(ratio(atKnee.latency.p99, baselineSame.latency.p99), 1)}` : "-",
      target: "",
    });
    rows.push({
      scenario: name,
      metric: "server CPU / RSS at Parley's knee",
      parley: `${fmt(atKnee.serverCpu * 100)}% / ${fmt(atKnee.serverRssBytes / 2 ** 20)} MB`,
      baseline: baselineSame ? `${fmt(baselineSame.serverCpu * 100)}% / ${fmt(baselineSame.serverRssBytes / 2 ** 20)} MB` : "-",
      ratio: baselineSame ? `CPU ${times(ratio(atKnee.serverCpu, baselineSame.serverCpu), 1)}` : "-",
      target: "",
    });
  }
  if (result.id === "s3") {
    // The cost of one fan-out: at the lowest rate, messages hardly overlap.
    const first = (knee: KneeResult | null | undefined) => knee?.steps[0] ?? null;
    const parleyFirst = first(result.parley);
    const baselineFirst = first(result.baseline);
    if (parleyFirst) {
      rows.push({
        scenario: name,
        metric: `one message to all ${result.roomSize}: p50 / p99 at ${fmt(parleyFirst.rate, 1)} sends/s, ms`,
        parley: `${ms(parleyFirst.latency.p50)} / ${ms(parleyFirst.latency.p99)}`,
        baseline: baselineFirst ? `${ms(baselineFirst.latency.p50)} / ${ms(baselineFirst.latency.p99)}` : "-",
        ratio: baselineFirst ? `p99 ${times(ratio(parleyFirst.latency.p99, baselineFirst.latency.p99), 1)}` : "-",
        target: "",
      });
    }
  }
  const baselineAtOwnKnee = result.baseline?.atKnee;
  if (baselineAtOwnKnee) {
    rows.push({
      scenario: name,
      metric: "baseline at its own knee: p99, CPU",
      parley: "",
      baseline: `${ms(baselineAtOwnKnee.latency.p99)} ms, ${fmt(baselineAtOwnKnee.serverCpu * 100)}%`,
      ratio: "",
      target: "",
    });
  }
  const totals = (steps: TaggedStep[]) => {
    const lost = steps.reduce((n, s) => n + s.lost, 0);
    const duplicates = steps.reduce((n, s) => n + s.duplicates, 0);
    return `${lost} / ${duplicates}`;
  };
  rows.push({
    scenario: name,
    metric: "lost / duplicated deliveries, every step",
    parley: totals(result.parley.steps),
    baseline: result.baseline ? totals(result.baseline.steps) : "-",
    ratio: "",
    target: "0 / 0",
  });
  return rows;
}

export function summaryRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const { params } = results;
  const s1Name = `1: ${params.knee.clients} clients, rooms of ${params.knee.roomSize}, ${params.knee.senders} sending`;
  if (results.s1) rows.push(...deliveryRows(results.s1, null, `${s1Name} (SQLite)`));
  if (results.s1Postgres) rows.push(...deliveryRows(results.s1Postgres, results.s1, `${s1Name} (PostgreSQL)`));
  if (results.s1Redis) rows.push(...deliveryRows(results.s1Redis, results.s1, `${s1Name} (2 instances, PostgreSQL + Redis)`));
  if (results.s2) {
    const { parley, baseline } = results.s2;
    rows.push({
      scenario: `2: ${parley.connections} idle connections`,
      metric: "RSS per connection (subscribed / joined)",
      parley: kb(parley.bytesPerConnection),
      baseline: kb(baseline.bytesPerConnection),
      ratio: times(ratio(parley.bytesPerConnection, baseline.bytesPerConnection), 1),
      target: "<= 3x",
    });
    rows.push({
      scenario: `2: ${parley.connections} idle connections`,
      metric: "RSS before -> after; time to connect all",
      parley: `${fmt(parley.rssBeforeBytes / 2 ** 20)} -> ${fmt(parley.rssAfterBytes / 2 ** 20)} MB; ${fmt(parley.connectSeconds, 1)} s`,
      baseline: `${fmt(baseline.rssBeforeBytes / 2 ** 20)} -> ${fmt(baseline.rssAfterBytes / 2 ** 20)} MB; ${fmt(baseline.connectSeconds, 1)} s`,
      ratio: "",
      target: "",
    });
  }
  const s3Name = `3: one room of ${params.fanout.members}, ${params.fanout.senders} sending`;
  if (results.s3) rows.push(...deliveryRows(results.s3, null, `${s3Name} (SQLite)`));
  if (results.s3Postgres) rows.push(...deliveryRows(results.s3Postgres, results.s3, `${s3Name} (PostgreSQL)`));
  for (const history of results.s4) {
    const name = `4: message.list, ${history.messages.toLocaleString("en-US")} messages (${history.provider === "sqlite" ? "SQLite" : "PostgreSQL"})`;
    rows.push({
      scenario: name,
      metric: `newest page of 50: p50 / p99 / max, ms (${history.calls} calls)`,
      parley: `${ms(history.newest.p50)} / ${ms(history.newest.p99)} / ${ms(history.newest.max)}`,
      baseline: "",
      ratio: "",
      target: "p99 < 10",
    });
    rows.push({
      scenario: name,
      metric: `page before a random cursor: p50 / p99 / max, ms${history.errors ? `; ${history.errors} errors` : ""}`,
      parley: `${ms(history.deep.p50)} / ${ms(history.deep.p99)} / ${ms(history.deep.max)}`,
      baseline: "",
      ratio: "",
      target: "p99 < 10",
    });
  }
  if (results.s5) {
    const { step, loginLatency, loginErrors, logins, rate } = results.s5;
    const errors = Object.entries(loginErrors).map(([code, n]) => `${code} x${n}`);
    rows.push({
      scenario: `5: ${logins} logins during scenario 1 at ${fmt(rate)} sends/s`,
      metric: "delivery p99 before / during the burst, ms",
      parley: `${ms(step.phases?.before.p99 ?? NaN)} / ${ms(step.phases?.during.p99 ?? NaN)}`,
      baseline: "",
      ratio: "",
      target: "during < 100",
    });
    rows.push({
      scenario: `5: ${logins} logins during scenario 1 at ${fmt(rate)} sends/s`,
      metric: "burst length; login p50 / max; lost / dup",
      parley: `${fmt(step.phases?.duringMs ?? NaN)} ms; ${fmt(loginLatency.p50)} / ${fmt(loginLatency.max)} ms; ${step.lost} / ${step.duplicates}${errors.length ? `; errors ${errors.join(", ")}` : ""}`,
      baseline: "",
      ratio: "",
      target: "",
    });
  }
  if (results.s1Sync) rows.push(...deliveryRows(results.s1Sync, results.s1, `${s1Name} (SQLite, sync.events)`));
  for (const live of results.live ?? []) {
    const { messages, events } = live;
    const errors = Object.entries(messages.errors).map(([code, n]) => `${code} x${n}`);
    const deliveries = messages.deliveredPerSecond + events.perSecond;
    rows.push({
      scenario: `${live.id.slice(1)}: ${live.name}, messages at ${fmt(live.rate)} sends/s (sync.events)`,
      metric: `message p50 / p99; ${events.kind} p50 / p99, ms`,
      parley: `${ms(messages.latency.p50)} / ${ms(messages.latency.p99)}; ${ms(events.latency.p50)} / ${ms(events.latency.p99)}`,
      baseline: "",
      ratio: "",
      target: "p99 < 50",
    });
    rows.push({
      scenario: `${live.id.slice(1)}: ${live.name}`,
      metric: `${events.kind}: actions, timed / expected; server CPU; CPU per 1,000 deliveries/s; lost / dup`,
      parley:
        `${events.actions}, ${events.latency.count} / ${events.expected}; ${fmt(messages.serverCpu * 100)}%; ${fmt((messages.serverCpu / deliveries) * 100_000, 1)}% ` +
        `; ${messages.lost} / ${messages.duplicates}${errors.length ? `; errors ${errors.join(", ")}` : ""}${live.note ? `; ${live.note}` : ""}`,
      baseline: "",
      ratio: "",
      target: "",
    });
  }
  if (results.pgOrder) {
    for (const run of results.pgOrder.runs) {
      rows.push({
        scenario: `one order on PostgreSQL: ${run.kind}`,
        metric: `${run.writers} writer process${run.writers > 1 ? "es" : ""}: events committed/s; commit p50 / p99 ms`,
        parley: `${fmt(run.eventsPerSecond)}; ${ms(run.latency.p50)} / ${ms(run.latency.p99)}`,
        baseline: "",
        ratio: "",
        target: "",
      });
    }
  }
  for (const run of results.search ?? []) {
    for (const c of run.classes) {
      rows.push({
        scenario: `search (${run.provider === "sqlite" ? "SQLite" : "PostgreSQL"}): ${c.kind}`,
        metric: "queries; p50 / p95 / p99 / max ms",
        parley: `${c.latency.count}; ${ms(c.latency.p50)} / ${ms(c.latency.p95)} / ${ms(c.latency.p99)} / ${ms(c.latency.max)}`,
        baseline: "",
        ratio: "",
        target: "p99 < 50",
      });
    }
  }
  for (const c of results.upload?.cases ?? []) {
    const { parley, baseline } = c;
    const scenario = `upload: ${c.description}, at once`;
    rows.push({
      scenario,
      metric: "MB/s (median round); upload p50 / p99 ms",
      parley: `${fmt(parley.mbPerSecond.median)}; ${fmt(parley.uploadMs.p50)} / ${fmt(parley.uploadMs.p99)}`,
      baseline: `${fmt(baseline.mbPerSecond.median)}; ${fmt(baseline.uploadMs.p50)} / ${fmt(baseline.uploadMs.p99)}`,
      ratio: times(ratio(parley.mbPerSecond.median, baseline.mbPerSecond.median)),
      target: "",
    });
    rows.push({
      scenario,
      metric: "server RSS before -> peak (growth); CPU, ms per MB",
      parley: `${mib(parley.rssBeforeBytes)} -> ${mib(parley.rssPeakBytes)} (+${mib(parley.rssGrowthBytes)}); ${fmt(parley.serverCpu * 100)}%, ${fmt(parley.cpuMsPerMb, 2)}`,
      baseline: `${mib(baseline.rssBeforeBytes)} -> ${mib(baseline.rssPeakBytes)} (+${mib(baseline.rssGrowthBytes)}); ${fmt(baseline.serverCpu * 100)}%, ${fmt(baseline.cpuMsPerMb, 2)}`,
      ratio: `CPU/MB ${times(ratio(parley.cpuMsPerMb, baseline.cpuMsPerMb), 1)}`,
      target: "",
    });
  }
  for (const failure of results.failures) rows.push({ scenario: failure.scenario, metric: "could not run", parley: failure.error.slice(0, 160), baseline: "", ratio: "", target: "" });
  return rows;
}

/** A markdown table; its columns are padded so that it also reads well in a terminal. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const renderRow = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [renderRow(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(renderRow)].join("\n");
}

export function summaryTable(results: BenchResults): string {
  const rows = summaryRows(results).map((r) => [r.scenario, r.metric, r.parley, r.baseline, r.ratio, r.target]);
  return renderTable(["scenario", "metric", "Parley", "baseline (raw ws)", "Parley/baseline", "target"], rows);
}

/** Every step of a knee search. */
export function stepTable(knee: KneeResult): string {
  const rows = knee.steps.map((s) => [
    s.phase,
    fmt(s.rate),
    fmt(s.deliveredPerSecond),
    `${ms(s.latency.p50)} / ${ms(s.latency.p95)} / ${ms(s.latency.p99)} / ${ms(s.latency.max)}`,
    `${s.lost} / ${s.duplicates}`,
    Object.entries(s.errors)
      .map(([code, n]) => `${code} x${n}`)
      .join(", ") || "0",
    `${fmt(s.serverCpu * 100)}%`,
    `${fmt(s.serverRssBytes / 2 ** 20)} MB`,
    `${fmt(s.servicesCpu * 100)}%`,
    `${fmt(s.generatorCpu * 100)}%`,
    `${fmt(s.otherCpu * 100)}%`,
    s.passed ? "pass" : "FAIL",
  ]);
  return renderTable(
    ["step", "sends/s", "deliveries/s", "p50 / p95 / p99 / max ms", "lost / dup", "errors", "server CPU", "server RSS", "PostgreSQL + Redis CPU", "generator CPU", "other processes' CPU", ""],
    rows,
  );
}

export function profileTable(profile: ProfileSummary): string {
  const areas = renderTable(
    ["area", "self time, % of busy"],
    profile.areas.slice(0, 16).map((a) => [a.area, `${a.selfPercent}%`]),
  );
  const top = renderTable(
    ["function", "where", "area", "self, % of busy"],
    profile.top.map((t) => [t.function, t.location, t.area, `${t.selfPercent}%`]),
  );
  return `Window ${profile.windowMs} ms; the main thread was busy ${profile.busyPercent}% of it (the rest idle, waiting for I/O). Shares below are of the busy time.\n\n${areas}\n\n${top}`;
}

export function chartSeries(results: BenchResults): ChartSeries[] {
  const series: ChartSeries[] = [];
  const add = (knee: KneeResult | null | undefined) => {
    if (!knee) return;
    series.push({ label: knee.label, knee: knee.knee, points: knee.steps.map((s) => ({ rate: s.rate, p99: s.latency.p99, passed: s.passed })) });
  };
  add(results.s1?.baseline);
  add(results.s1?.parley);
  add(results.s1Postgres?.parley);
  add(results.s1Redis?.parley);
  return series;
}

/** Writes `<stamp>.json`, `<stamp>.md`, the chart `<stamp>-p99-vs-rate.svg` and a copy of the CPU profile. */
export function writeReport(results: BenchResults, directory: string, stamp: string): void {
  mkdirSync(directory, { recursive: true });
  const profile = results.s1?.profile;
  if (profile && existsSync(profile.file)) {
    // Large and ignored by git; kept for opening in Chrome DevTools.
    const copy = join(directory, `${stamp}-server.cpuprofile`);
    cpSync(profile.file, copy);
    profile.file = basename(copy);
  }
  const series = chartSeries(results);
  const chartFile = `${stamp}-p99-vs-rate.svg`;
  if (series.length > 0) {
    const { knee, p99LimitMs } = results.params;
    writeFileSync(
      join(directory, chartFile),
      latencyChart(series, {
        title: "Scenario 1: p99 delivery latency against send rate",
        subtitle: `${knee.clients} clients in rooms of ${knee.roomSize}, ${knee.senders} sending 128-byte messages; server pinned to one core; ${results.startedAt.slice(0, 10)}`,
        limitMs: p99LimitMs,
      }),
    );
  }
  writeFileSync(join(directory, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(directory, `${stamp}.md`), markdownReport(results, series.length > 0 ? chartFile : null));
}

export function markdownReport(results: BenchResults, chartFile: string | null): string {
  const sections = [
    `# Parley bench, ${results.mode} run of ${results.startedAt}`,
    `Server: ${results.server?.label ?? "this checkout"}; checkout ${results.git.commit}${results.git.dirty ? " (with uncommitted server changes)" : ""}; ${results.durationSeconds} s.`,
    summaryTable(results),
  ];
  if (chartFile) sections.push(`![p99 against send rate](${chartFile})`);
  for (const [title, result] of [
    ["Scenario 1 (SQLite)", results.s1],
    ["Scenario 1 (PostgreSQL)", results.s1Postgres],
    ["Scenario 1 (two instances, PostgreSQL + Redis)", results.s1Redis],
    ["Scenario 3 (SQLite)", results.s3],
    ["Scenario 3 (PostgreSQL)", results.s3Postgres],
  ] as const) {
    if (!result) continue;
    sections.push(`## ${title}: ${result.parley.label}\n\n${stepTable(result.parley)}`);
    if (result.baseline) sections.push(`## ${title}: ${result.baseline.label}\n\n${stepTable(result.baseline)}`);
    if (result.serverLog.length > 0) sections.push(`Server warnings:\n\n${result.serverLog.map((l) => `    ${l}`).join("\n")}`);
  }
  if (results.cpu) sections.push(`## Server CPU per delivery at fixed rates\n\n${cpuTable(results.cpu)}`);
  if (results.upload) sections.push(`## Uploads\n\n${uploadTable(results.upload)}`);
  if (results.s1?.profile) sections.push(`## Server CPU profile near the knee (scenario 1, SQLite)\n\n${profileTable(results.s1.profile)}`);
  return `${sections.join("\n\n")}\n`;
}

/** The runs as one table: a row per database and class of query, PASS when p99 is under the limit. */
export function searchTable(runs: readonly SearchRun[]): string {
  const ms = (value: number) => value.toFixed(1);
  const label: Record<SearchRun["provider"], string> = { sqlite: "SQLite", postgresql: "PostgreSQL" };
  const rows = runs.flatMap((run) =>
    run.classes.map((c) => [
      label[run.provider],
      c.kind,
      String(c.latency.count),
      String(c.empty),
      ms(c.latency.p50),
      ms(c.latency.p95),
      ms(c.latency.p99),
      ms(c.latency.max),
      c.latency.count > 0 && c.latency.p99 < SEARCH_P99_LIMIT_MS ? "PASS" : "FAIL",
    ]),
  );
  const notes = runs.map(
    (run) => `${label[run.provider]}: ${run.messages.toLocaleString("en-US")} messages in ${run.conversations.toLocaleString("en-US")} conversations, ${run.seedSeconds === null ? "seeded file from the cache" : `seeded in ${run.seedSeconds.toFixed(0)} s`}, ${run.errors} failed calls`,
  );
  return `${renderTable(["database", "query", "queries", "no result", "p50", "p95", "p99", "max", `p99 < ${SEARCH_P99_LIMIT_MS} ms`], rows)}\n${notes.join("\n")}`;
}

/** Each upload case, Parley's row and the baseline's, and every measured round of both. */
export function uploadTable(result: UploadResult): string {
  const rows = result.cases.flatMap((c) =>
    [c.parley, c.baseline].map((t) => [
      c.description,
      t.label,
      String(t.rounds.length),
      `${fmt(t.mbPerSecond.median)} (${fmt(t.mbPerSecond.min)}-${fmt(t.mbPerSecond.max)})`,
      t === c.parley ? times(ratio(c.parley.mbPerSecond.median, c.baseline.mbPerSecond.median)) : "",
      `${fmt(t.uploadMs.p50)} / ${fmt(t.uploadMs.p99)}`,
      `${mib(t.rssBeforeBytes)} -> ${mib(t.rssPeakBytes)} (+${mib(t.rssGrowthBytes)})`,
      `${fmt(t.serverCpu * 100)}%; ${fmt(t.cpuMsPerMb, 2)}`,
      `${fmt(t.generatorCpu * 100)}%`,
      `${fmt(t.otherCpu * 100)}%`,
    ]),
  );
  const table = renderTable(
    ["case", "server", "rounds", "MB/s median (range)", "Parley/baseline", "upload p50 / p99 ms", "server RSS before -> peak (largest growth)", "server CPU; ms per MB", "generator CPU", "other processes' CPU"],
    rows,
  );
  const rounds = result.cases.flatMap((c) =>
    [c.parley, c.baseline].flatMap((t) =>
      t.rounds.map((r, i) => [
        c.kind,
        t.label,
        String(i + 1),
        fmt(r.bytes / 1e6 / (r.wallMs / 1000)),
        fmt(r.wallMs),
        fmt(Math.max(...r.uploadMs)),
        `${mib(r.rssBeforeBytes)} -> ${mib(r.rssPeakBytes)} -> ${mib(r.rssAfterBytes)}`,
        `${fmt((r.serverCpuSeconds / r.wallMs) * 1e5)}%`,
      ]),
    ),
  );
  return `${table}\n\n${renderTable(["case", "server", "round", "MB/s", "wall ms", "slowest upload ms", "RSS before -> peak -> 1 s after", "server CPU"], rounds)}`;
}

/** Per rate: each target's median CPU per delivery (range over the rounds), its ratio to the baseline's median, p99. */
export function cpuTable(result: CpuResult): string {
  const baseline = result.targets.find((t) => t.baseline);
  const rows = result.targets.flatMap((t) =>
    t.cells.map((cell, i) => {
      const us = median(cell.usPerDelivery);
      const base = baseline ? median(baseline.cells[i]?.usPerDelivery ?? []) : Number.NaN;
      // With the servers' core's interrupt time (their sockets' TCP work), per round, then the median.
      const withInterrupts = (c: CpuCell | undefined) => median((c?.usPerDelivery ?? []).map((v, round) => v + (c?.interruptUsPerDelivery[round] ?? Number.NaN)));
      const whole = withInterrupts(cell);
      return [
        String(cell.rate),
        t.label,
        `${fmt(us, 1)} (${fmt(Math.min(...cell.usPerDelivery), 1)}-${fmt(Math.max(...cell.usPerDelivery), 1)})`,
        t.baseline ? "" : times(ratio(us, base)),
        fmt(median(cell.interruptUsPerDelivery), 1),
        t.baseline ? fmt(whole, 1) : `${fmt(whole, 1)} (${times(ratio(whole, withInterrupts(baseline?.cells[i])))})`,
        result.provider === "postgresql" ? fmt(median(cell.servicesUsPerDelivery), 1) : "",
        `${fmt(median(cell.p99Ms), 1)} (${fmt(Math.max(...cell.p99Ms), 1)})`,
        `${cell.lost} / ${cell.duplicates}`,
        `${fmt(cell.otherCpuMax * 100)}%`,
      ];
    }),
  );
  rows.sort((a, b) => Number(a[0]) - Number(b[0]));
  return `${renderTable(["sends/s", "server", "CPU us per delivery, median (range)", "/ baseline", "server core's interrupts, us per delivery", "CPU + interrupts, us per delivery (/ baseline)", "PostgreSQL + Redis CPU us per delivery", "p99 ms, median (max)", "lost / dup", "other processes, max"], rows)}\n${result.provider === "postgresql" ? "PostgreSQL" : "SQLite"}; ${result.clients} clients in rooms of ${result.roomSize}, ${result.senders} sending; ${result.rounds} rounds`;
}
