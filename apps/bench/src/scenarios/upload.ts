// The upload scenario (issue 14): ten clients each POST a file to /files at once, round after round,
// against Parley (SQLite) and against a bare Node server that streams the body to disk
// (src/upload-baseline-server.ts), rounds of the two alternated so that the machine's drift falls on
// both. Two cases: 25 MB of random bytes (nothing to sniff or re-encode: the streaming path), and
// 4000x3000 JPEGs (Parley decodes and re-encodes every picture with sharp and writes a thumbnail).
// Every upload is checked (status, size, type, the stored files); server RSS is sampled from /proc
// while the uploads run, so that a server holding bodies in memory would show it.
import { request } from "node:http";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { RunContext } from "../context.js";
import { machineBusyCpuSeconds, sampleProcess, startParley, startUploadBaseline, type ServerProcess } from "../processes.js";
import { mulberry32 } from "../random.js";
import { createConversations, signUpUsers } from "../setup.js";
import { distributionOf, type Distribution } from "../stats.js";

/** Uploads at once, one per client (each its own user: Parley allows a user 3 at a time). */
const CLIENTS = 10;
/** 25 MB, decimal: under Parley's default MAX_UPLOAD_BYTES of 25 MiB (26,214,400 bytes). */
export const RANDOM_FILE_BYTES = 25_000_000;
const IMAGE = { width: 4000, height: 3000, quality: 90 } as const;
/** Measured rounds per case and target, after one unmeasured round each. */
const ROUNDS = { random: 5, jpeg: 3 } as const;
const RSS_SAMPLE_MS = 20;
const UPLOAD_TIMEOUT_MS = 120_000;
/** Time for the server to settle after a round before its RSS is read again. */
const SETTLE_MS = 1_000;

export type UploadKind = keyof typeof ROUNDS;

export interface UploadRound {
  wallMs: number;
  bytes: number;
  /** Each upload, from the request's start to the answer's end. */
  uploadMs: number[];
  rssBeforeBytes: number;
  rssPeakBytes: number;
  /** A second after the round. */
  rssAfterBytes: number;
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
  /** CPU seconds of every other process on the machine during the round. */
  otherCpuSeconds: number;
}

export interface UploadTargetResult {
  label: string;
  rounds: UploadRound[];
  /** Bytes of all uploads of a round / the round's wall time, in MB (10^6 bytes) a second: median, lowest, highest round. */
  mbPerSecond: { median: number; min: number; max: number };
  uploadMs: Distribution;
  rssBeforeBytes: number;
  rssPeakBytes: number;
  /** The largest peak - before of any round. */
  rssGrowthBytes: number;
  /** Server CPU over the rounds' wall time (1 = one core), and CPU milliseconds per MB received. */
  serverCpu: number;
  cpuMsPerMb: number;
  generatorCpu: number;
  otherCpu: number;
}

export interface UploadCaseResult {
  kind: UploadKind;
  description: string;
  files: number;
  /** Bytes of one round's uploads together. */
  roundBytes: number;
  parley: UploadTargetResult;
  baseline: UploadTargetResult;
}

export interface UploadResult {
  clients: number;
  cases: UploadCaseResult[];
}

interface UploadCase {
  kind: UploadKind;
  description: string;
  bodies: Buffer[];
}

/** A server under test: where client `i` posts, and what its answer and stored files must be. */
interface UploadTarget {
  label: string;
  server: ServerProcess;
  filesDir: string;
  urlFor(client: number, name: string): URL;
  headersFor(client: number): Record<string, string>;
  /** Why the answer is wrong for this body, or the stored size it announced. */
  check(kind: UploadKind, body: Buffer, answer: Answer): { error: string } | { storedBytes: number };
  /** The stored files that hold the uploads themselves (not thumbnails). */
  isUploadFile(name: string): boolean;
}

interface Answer {
  status: number;
  body: string;
  ms: number;
}

export async function runUpload(context: RunContext): Promise<UploadResult> {
  const { log, workDir } = context;
  log(`upload: making ${CLIENTS} files of ${RANDOM_FILE_BYTES.toLocaleString("en-US")} random bytes and ${CLIENTS} ${IMAGE.width}x${IMAGE.height} JPEGs`);
  const cases: UploadCase[] = [
    { kind: "random", description: `${CLIENTS} x ${RANDOM_FILE_BYTES / 1e6} MB of random bytes`, bodies: Array.from({ length: CLIENTS }, (_, i) => randomFile(RANDOM_FILE_BYTES, i + 1)) },
    { kind: "jpeg", description: `${CLIENTS} x ${IMAGE.width}x${IMAGE.height} JPEG (quality ${IMAGE.quality})`, bodies: await Promise.all(Array.from({ length: CLIENTS }, (_, i) => photoLikeJpeg(i + 1))) },
  ];
  const jpegBytes = cases[1]?.bodies.map((b) => b.length) ?? [];
  log(`upload: JPEGs of ${(Math.min(...jpegBytes) / 1e6).toFixed(2)}-${(Math.max(...jpegBytes) / 1e6).toFixed(2)} MB`);

  const parleyData = join(workDir, "upload-parley");
  const baselineDir = join(workDir, "upload-baseline");
  mkdirSync(parleyData, { recursive: true });
  const parleyServer = await startParley(
    { bundle: context.serverBundle, nodeFlags: context.serverNodeFlags, databaseUrl: `file:${join(parleyData, "parley.db")}`, dataDir: parleyData, jwtSecret: context.jwtSecret, cpu: context.serverCpu },
    "parley (upload, SQLite)",
  );
  let baselineServer: ServerProcess | null = null;
  try {
    baselineServer = await startUploadBaseline(context.serverCpu, baselineDir);
    const users = await signUpUsers(parleyServer.url, CLIENTS, `b${context.runId}up`);
    const [conversationId] = await createConversations(parleyServer.url, users, [users.map((_, i) => i)]);
    const parley = parleyTarget(parleyServer, join(parleyData, "files"), conversationId ?? "", users.map((u) => u.accessToken));
    const baseline = baselineTarget(baselineServer, baselineDir);
    const results: UploadCaseResult[] = [];
    for (const uploadCase of cases) {
      const rounds = new Map<UploadTarget, UploadRound[]>([
        [parley, []],
        [baseline, []],
      ]);
      for (let round = 0; round <= ROUNDS[uploadCase.kind]; round += 1) {
        const order = round % 2 === 0 ? [parley, baseline] : [baseline, parley];
        for (const target of order) {
          const result = await uploadRound(target, uploadCase);
          const measured = round > 0;
          if (measured) rounds.get(target)?.push(result);
          log(`${uploadCase.kind} ${measured ? `round ${round}` : "warm-up"}, ${target.label}: ${describeRound(result)}`);
        }
      }
      results.push({
        kind: uploadCase.kind,
        description: uploadCase.description,
        files: CLIENTS,
        roundBytes: uploadCase.bodies.reduce((sum, b) => sum + b.length, 0),
        parley: summarize(parley.label, rounds.get(parley) ?? []),
        baseline: summarize(baseline.label, rounds.get(baseline) ?? []),
      });
    }
    return { clients: CLIENTS, cases: results };
  } finally {
    await Promise.all([parleyServer.stop(), baselineServer?.stop()]);
    rmSync(parleyData, { recursive: true, force: true });
    rmSync(baselineDir, { recursive: true, force: true });
  }
}

function parleyTarget(server: ServerProcess, filesDir: string, conversationId: string, tokens: string[]): UploadTarget {
  return {
    label: "Parley (SQLite)",
    server,
    filesDir,
    urlFor: (_client, name) => new URL(`/files?${new URLSearchParams({ conversationId, name }).toString()}`, server.url),
    headersFor: (client) => ({ Authorization: `Bearer ${tokens[client] ?? ""}` }),
    check: (kind, body, answer) => {
      if (answer.status !== 201) return { error: `HTTP ${answer.status}: ${answer.body.slice(0, 200)}` };
      const attachment = JSON.parse(answer.body) as { size?: number; contentType?: string; width?: number; height?: number };
      if (kind === "random") {
        if (attachment.size !== body.length || attachment.contentType !== "application/octet-stream") return { error: `stored as ${attachment.contentType} of ${attachment.size} bytes, sent ${body.length}` };
      } else if (attachment.contentType !== "image/jpeg" || attachment.width !== IMAGE.width || attachment.height !== IMAGE.height || !attachment.size) {
        return { error: `stored as ${attachment.contentType} ${attachment.width}x${attachment.height}, not a ${IMAGE.width}x${IMAGE.height} JPEG` };
      }
      return { storedBytes: attachment.size };
    },
    // Stored files are named by their key; a picture's thumbnail is `<key>.thumb`.
    isUploadFile: (name) => !name.includes("."),
  };
}

function baselineTarget(server: ServerProcess, filesDir: string): UploadTarget {
  return {
    label: "baseline (Node http -> file)",
    server,
    filesDir,
    urlFor: () => new URL("/upload", server.url),
    headersFor: () => ({}),
    check: (_kind, body, answer) => {
      if (answer.status !== 201) return { error: `HTTP ${answer.status}` };
      const { size } = JSON.parse(answer.body) as { size?: number };
      return size === body.length ? { storedBytes: size } : { error: `wrote ${size} bytes, sent ${body.length}` };
    },
    isUploadFile: () => true,
  };
}

/** Every client uploads its file at once; throws when any upload or stored file is not what was sent. */
async function uploadRound(target: UploadTarget, uploadCase: UploadCase): Promise<UploadRound> {
  const { pid } = target.server;
  const before = sampleProcess(pid);
  let rssPeakBytes = before.rssBytes;
  const sampler = setInterval(() => {
    rssPeakBytes = Math.max(rssPeakBytes, sampleProcess(pid).rssBytes);
  }, RSS_SAMPLE_MS);
  const machineBefore = machineBusyCpuSeconds();
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  let answers: Answer[];
  try {
    answers = await Promise.all(uploadCase.bodies.map((body, i) => post(target.urlFor(i, `${uploadCase.kind}-${i}.${uploadCase.kind === "jpeg" ? "jpg" : "bin"}`), target.headersFor(i), body)));
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const generatorUsed = process.cpuUsage(generatorBefore);
  const after = sampleProcess(pid);
  rssPeakBytes = Math.max(rssPeakBytes, after.rssBytes);
  const serverCpuSeconds = after.cpuSeconds - before.cpuSeconds;
  const generatorCpuSeconds = (generatorUsed.user + generatorUsed.system) / 1e6;
  const otherCpuSeconds = Math.max(0, machineBusyCpuSeconds() - machineBefore - serverCpuSeconds - generatorCpuSeconds);

  const announced: number[] = [];
  answers.forEach((answer, i) => {
    const verdict = target.check(uploadCase.kind, uploadCase.bodies[i] ?? Buffer.alloc(0), answer);
    if ("error" in verdict) throw new Error(`${target.label}: upload ${i} failed: ${verdict.error}`);
    announced.push(verdict.storedBytes);
  });
  verifyStoredFiles(target, announced);

  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const rssAfterBytes = sampleProcess(pid).rssBytes;
  return {
    wallMs,
    bytes: uploadCase.bodies.reduce((sum, b) => sum + b.length, 0),
    uploadMs: answers.map((a) => a.ms),
    rssBeforeBytes: before.rssBytes,
    rssPeakBytes,
    rssAfterBytes,
    serverCpuSeconds,
    generatorCpuSeconds,
    otherCpuSeconds,
  };
}

/**
 * The folder holds exactly the round's uploads, of the sizes the server announced, and nothing
 * half-written; then it is emptied so that every round starts from the same disk.
 */
function verifyStoredFiles(target: UploadTarget, announced: number[]): void {
  const names = readdirSync(target.filesDir);
  const stored = names
    .filter((name) => target.isUploadFile(name))
    .map((name) => statSync(join(target.filesDir, name)).size)
    .sort((a, b) => a - b);
  const expected = [...announced].sort((a, b) => a - b);
  if (stored.join(",") !== expected.join(",")) throw new Error(`${target.label}: stored files of ${stored.join(", ")} bytes, expected ${expected.join(", ")}`);
  const partial = names.filter((name) => name.includes(".part-"));
  if (partial.length > 0) throw new Error(`${target.label}: unfinished files left: ${partial.join(", ")}`);
  for (const name of names) rmSync(join(target.filesDir, name), { force: true });
}

function post(url: URL, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent: false, headers: { ...headers, "Content-Type": "application/octet-stream", "Content-Length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.setTimeout(UPLOAD_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${UPLOAD_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function summarize(label: string, rounds: UploadRound[]): UploadTargetResult {
  const rates = rounds.map((r) => r.bytes / 1e6 / (r.wallMs / 1000)).sort((a, b) => a - b);
  const wallSeconds = rounds.reduce((sum, r) => sum + r.wallMs / 1000, 0);
  const megabytes = rounds.reduce((sum, r) => sum + r.bytes / 1e6, 0);
  const serverCpuSeconds = rounds.reduce((sum, r) => sum + r.serverCpuSeconds, 0);
  return {
    label,
    rounds,
    mbPerSecond: { median: rates[Math.floor((rates.length - 1) / 2)] ?? 0, min: rates[0] ?? 0, max: rates.at(-1) ?? 0 },
    uploadMs: distributionOf(rounds.flatMap((r) => r.uploadMs)),
    rssBeforeBytes: Math.min(...rounds.map((r) => r.rssBeforeBytes)),
    rssPeakBytes: Math.max(...rounds.map((r) => r.rssPeakBytes)),
    rssGrowthBytes: Math.max(...rounds.map((r) => r.rssPeakBytes - r.rssBeforeBytes)),
    serverCpu: serverCpuSeconds / wallSeconds,
    cpuMsPerMb: (serverCpuSeconds * 1000) / megabytes,
    generatorCpu: rounds.reduce((sum, r) => sum + r.generatorCpuSeconds, 0) / wallSeconds,
    otherCpu: rounds.reduce((sum, r) => sum + r.otherCpuSeconds, 0) / wallSeconds,
  };
}

function describeRound(r: UploadRound): string {
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const slowest = Math.max(...r.uploadMs);
  return (
    `${(r.bytes / 1e6 / (r.wallMs / 1000)).toFixed(0)} MB/s (${r.wallMs.toFixed(0)} ms; slowest upload ${slowest.toFixed(0)} ms); ` +
    `RSS ${mb(r.rssBeforeBytes)} -> peak ${mb(r.rssPeakBytes)} -> ${mb(r.rssAfterBytes)}; server CPU ${((r.serverCpuSeconds / r.wallMs) * 1e5).toFixed(0)}%, ` +
    `generator ${((r.generatorCpuSeconds / r.wallMs) * 1e5).toFixed(0)}%, other processes ${((r.otherCpuSeconds / r.wallMs) * 1e5).toFixed(0)}%`
  );
}

/** Incompressible, and the same every run: seeded, written four bytes at a time. */
function randomFile(bytes: number, seed: number): Buffer {
  const random = mulberry32(seed);
  const words = new Uint32Array(Math.ceil(bytes / 4));
  for (let i = 0; i < words.length; i += 1) words[i] = Math.floor(random() * 2 ** 32);
  return Buffer.from(words.buffer, 0, bytes);
}

/**
 * A 12-megapixel JPEG about the size of a phone's photo (3-4 MB): smooth colour fields with sensor-
 * like noise, so that it neither compresses to nothing nor grows like pure noise.
 */
function photoLikeJpeg(seed: number): Promise<Buffer> {
  const { width, height, quality } = IMAGE;
  const random = mulberry32(seed);
  const fx = 1 + random() * 3;
  const fy = 1 + random() * 3;
  const pixels = Buffer.alloc(width * height * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  let i = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const noise = (random() - 0.5) * 24;
      pixels[i++] = clamp(128 + 100 * Math.sin((x * fx) / 400 + y / 700) + noise);
      pixels[i++] = clamp(128 + 90 * Math.cos((y * fy) / 350) + noise);
      pixels[i++] = clamp(((x ^ y) & 255) * 0.3 + 80 + noise);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
