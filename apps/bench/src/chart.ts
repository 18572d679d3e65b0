// p99 latency against send rate, one line per target, on log-log axes, as a standalone SVG.

export interface ChartPoint {
  rate: number;
  p99: number;
  passed: boolean;
}

export interface ChartSeries {
  label: string;
  points: ChartPoint[];
  /** The knee rate, marked with a vertical line (0: none). */
  knee: number;
}

export interface ChartOptions {
  title: string;
  subtitle: string;
  limitMs: number;
}

const WIDTH = 860;
const HEIGHT = 520;
const MARGIN = { top: 70, right: 30, bottom: 60, left: 70 };
const COLORS = ["#d1495b", "#00798c", "#edae49", "#66a182", "#6a4c93", "#2e4057"];

export function latencyChart(series: ChartSeries[], options: ChartOptions): string {
  const points = series.flatMap((s) => s.points).filter((p) => p.rate > 0);
  const minP99 = Math.max(0.1, Math.min(...points.map((p) => p.p99).filter((v) => v > 0), options.limitMs));
  const x = logScale(Math.min(...points.map((p) => p.rate)), Math.max(...points.map((p) => p.rate)), MARGIN.left, WIDTH - MARGIN.right);
  const y = logScale(minP99, Math.max(...points.map((p) => p.p99), options.limitMs * 2), HEIGHT - MARGIN.bottom, MARGIN.top);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="26" font-size="17" font-weight="bold">${escape(options.title)}</text>`,
    `<text x="${MARGIN.left}" y="46" fill="#555">${escape(options.subtitle)}</text>`,
  );
  for (const tick of x.ticks) {
    out.push(line(x.at(tick), MARGIN.top, x.at(tick), HEIGHT - MARGIN.bottom, "#e5e5e5"));
    out.push(`<text x="${x.at(tick).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle" fill="#333">${formatNumber(tick)}</text>`);
  }
  for (const tick of y.ticks) {
    out.push(line(MARGIN.left, y.at(tick), WIDTH - MARGIN.right, y.at(tick), "#e5e5e5"));
    out.push(`<text x="${MARGIN.left - 8}" y="${(y.at(tick) + 4).toFixed(1)}" text-anchor="end" fill="#333">${formatNumber(tick)}</text>`);
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#999"/>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 18}" text-anchor="middle">send rate (messages/s, all senders together; log scale)</text>`,
    `<text transform="translate(20 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">end-to-end p99 latency (ms, log scale)</text>`,
    line(MARGIN.left, y.at(options.limitMs), WIDTH - MARGIN.right, y.at(options.limitMs), "#888", "6 4"),
    `<text x="${WIDTH - MARGIN.right - 6}" y="${(y.at(options.limitMs) - 6).toFixed(1)}" text-anchor="end" fill="#666">p99 limit ${options.limitMs} ms</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? "#000";
    const byRate = new Map<number, number[]>();
    for (const p of s.points) byRate.set(p.rate, [...(byRate.get(p.rate) ?? []), p.p99]);
    const path = [...byRate.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([rate, values], k) => `${k === 0 ? "M" : "L"}${x.at(rate).toFixed(1)},${y.at(Math.max(minP99, median(values))).toFixed(1)}`)
      .join(" ");
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      const cx = x.at(p.rate).toFixed(1);
      const cy = y.at(Math.max(minP99, p.p99)).toFixed(1);
      out.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="${p.passed ? color : "#fff"}" stroke="${color}" stroke-width="1.5"/>`);
    }
    if (s.knee > 0) {
      out.push(line(x.at(s.knee), MARGIN.top, x.at(s.knee), HEIGHT - MARGIN.bottom, color, "2 3"));
      const nearRightEdge = x.at(s.knee) > WIDTH - MARGIN.right - 90;
      const labelX = nearRightEdge ? x.at(s.knee) - 4 : x.at(s.knee) + 4;
      out.push(
        `<text x="${labelX.toFixed(1)}" y="${MARGIN.top + 14 + i * 14}" fill="${color}"${nearRightEdge ? ' text-anchor="end"' : ""}>knee ${formatNumber(s.knee)}/s</text>`,
      );
    }
    const legendY = MARGIN.top + 14 + i * 18;
    out.push(
      line(MARGIN.left + 12, legendY - 4, MARGIN.left + 36, legendY - 4, color),
      `<circle cx="${MARGIN.left + 24}" cy="${legendY - 4}" r="4" fill="${color}"/>`,
      `<text x="${MARGIN.left + 42}" y="${legendY}">${escape(s.label)}</text>`,
    );
  });
  out.push(`<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 4}" text-anchor="end" fill="#777" font-size="10">filled: step passed (p99 under the limit, nothing lost); hollow: failed</text>`);
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function logScale(min: number, max: number, from: number, to: number): { at: (v: number) => number; ticks: number[] } {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  const at = (v: number) => from + ((Math.log10(v) - low) / (high - low)) * (to - from);
  const ticks: number[] = [];
  for (let e = low; e <= high; e += 1) for (const m of high - low <= 3 ? [1, 2, 5] : [1]) if (e < high || m === 1) ticks.push(m * 10 ** e);
  return { at, ticks };
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, dash?: string): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function formatNumber(value: number): string {
  if (value >= 1000) return `${value / 1000 >= 10 ? Math.round(value / 1000) : Math.round(value / 100) / 10}k`;
  return value >= 1 ? String(Math.round(value * 10) / 10) : String(Number(value.toPrecision(2)));
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
