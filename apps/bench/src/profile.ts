// Summarises a V8 CPU profile (`node --cpu-prof`) of the server over the measured window: the
// functions with the most self time, and the share of each area (Prisma, tRPC, ws, GC, ...).
// Frames in the server bundle are mapped back to their source files through its source map.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  location: string;
  area: string;
  /** Share of the time the main thread was busy (not idle) in the window, in percent. */
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  windowMs: number;
  /** Share of the window the server's main thread was not idle, in percent. */
  busyPercent: number;
  /** Shares of the busy time, in percent (idle left out). */
  areas: { area: string; selfPercent: number }[];
  top: ProfileEntry[];
}

/** The newest .cpuprofile in a directory. */
export function newestProfile(directory: string): string | null {
  if (!existsSync(directory)) return null;
  const files = readdirSync(directory)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(directory, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

/**
 * `window` is in the generator's clock, `exitedAt` is when (same clock) the server process exited;
 * the profile ends at the exit, which ties the two clocks together to within a few milliseconds.
 */
export function summariseProfile(file: string, window: { start: number; end: number }, exitedAt: number, topCount = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const from = profile.endTime - (exitedAt - window.start) * 1000;
  const to = profile.endTime - (exitedAt - window.end) * 1000;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const maps = new SourceMaps();
  const selfByKey = new Map<string, { entry: Omit<ProfileEntry, "selfPercent">; micros: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    time += profile.timeDeltas[i] ?? 0;
    // A sample's delta is the time since the previous one: attribute it to this sample.
    if (time < from || time > to) continue;
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(profile.samples[i] ?? -1);
    if (!frame) continue;
    total += delta;
    const described = describeFrame(frame, maps);
    if (described.area === "idle") idle += delta;
    byArea.set(described.area, (byArea.get(described.area) ?? 0) + delta);
    const key = `${described.function}@${described.location}`;
    const current = selfByKey.get(key) ?? { entry: described, micros: 0 };
    current.micros += delta;
    selfByKey.set(key, current);
  }
  const percentOf = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);
  const busy = total - idle;
  const percent = (micros: number) => percentOf(micros, busy);
  return {
    file,
    windowMs: Math.round(total / 1000),
    busyPercent: percentOf(busy, total),
    areas: [...byArea.entries()]
      .filter(([area]) => area !== "idle")
      .sort((a, b) => b[1] - a[1])
      .map(([area, micros]) => ({ area, selfPercent: percent(micros) })),
    top: [...selfByKey.values()]
      .filter((v) => v.entry.area !== "idle")
      .sort((a, b) => b.micros - a.micros)
      .slice(0, topCount)
      .map((v) => ({ ...v.entry, selfPercent: percent(v.micros) })),
  };
}

// A Map, not an object literal: a function may well be called "constructor".
const SPECIAL = new Map([
  ["(idle)", "idle"],
  ["(garbage collector)", "garbage collection"],
  ["(program)", "V8/native (program)"],
]);

function describeFrame(frame: CallFrame, maps: SourceMaps): Omit<ProfileEntry, "selfPercent"> {
  const name = frame.functionName || "(anonymous)";
  const special = SPECIAL.get(frame.functionName);
  if (special) return { function: frame.functionName, location: "", area: special };
  if (!frame.url) return { function: name, location: "native", area: "native (no JS frame)" };
  if (frame.url.startsWith("wasm://")) return { function: name, location: frame.url, area: "wasm (Prisma query compiler)" };
  if (frame.url.startsWith("node:")) return { function: name, location: frame.url, area: "node internals" };
  const path = frame.url.replace(/^file:\/\//, "");
  const original = maps.lookup(path, frame.lineNumber, frame.columnNumber);
  const source = original ? original.source : path;
  const line = original ? original.line : frame.lineNumber + 1;
  const pkg = packageOf(source);
  const short = pkg ? `${pkg}/${source.slice(source.lastIndexOf("/") + 1)}` : repoRelative(source);
  return { function: name, location: `${short}:${line}`, area: pkg ?? areaOfSource(source) };
}

/** The npm package a path belongs to (after its last node_modules/), or null. */
function packageOf(path: string): string | null {
  const at = path.lastIndexOf("node_modules/");
  if (at < 0) return null;
  const parts = path.slice(at + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? null);
}

function repoRelative(path: string): string {
  const match = /(?:^|\/)((?:apps|packages)\/.*)$/.exec(path);
  return match?.[1] ?? path;
}

function areaOfSource(path: string): string {
  const relative = repoRelative(path);
  if (relative.includes("/generated/")) return "@parley/db (generated Prisma client)";
  const match = /^(apps|packages)\/([^/]+)/.exec(relative);
  return match ? `${match[1]}/${match[2]}` : "other";
}

interface Segment {
  column: number;
  source: number;
  line: number;
}

/** Reads `<file>.map` next to a bundle and maps generated positions to original ones. */
class SourceMaps {
  private readonly loaded = new Map<string, { sources: string[]; lines: Segment[][] } | null>();

  lookup(file: string, line: number, column: number): { source: string; line: number } | null {
    let map = this.loaded.get(file);
    if (map === undefined) {
      map = readSourceMap(file);
      this.loaded.set(file, map);
    }
    const segments = map?.lines[line];
    if (!map || !segments) return null;
    let found: Segment | null = null;
    for (const segment of segments) {
      if (segment.column > column) break;
      found = segment;
    }
    if (!found) return null;
    return { source: map.sources[found.source] ?? file, line: found.line + 1 };
  }
}

function readSourceMap(file: string): { sources: string[]; lines: Segment[][] } | null {
  const mapFile = `${file}.map`;
  if (!existsSync(mapFile)) return null;
  const raw = JSON.parse(readFileSync(mapFile, "utf8")) as { sources: string[]; sourceRoot?: string; mappings: string };
  return { sources: raw.sources.map((source) => resolve(dirname(file), raw.sourceRoot ?? "", source)), lines: decodeMappings(raw.mappings) };
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Source map v3 "mappings": base64 VLQ, fields relative to the previous segment (names are not needed). */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let sourceLine = 0;
  for (const lineText of mappings.split(";")) {
    const segments: Segment[] = [];
    let column = 0;
    for (const segmentText of lineText.split(",")) {
      if (!segmentText) continue;
      const fields = decodeVlq(segmentText);
      column += fields[0] ?? 0;
      if (fields.length >= 4) {
        source += fields[1] ?? 0;
        sourceLine += fields[2] ?? 0;
        segments.push({ column, source, line: sourceLine });
      }
    }
    lines.push(segments);
  }
  return lines;
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}
