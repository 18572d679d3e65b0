// A build step: beside every text file of the built app, a brotli (.br) and a gzip (.gz) copy,
// compressed once at the highest levels, which apps/server sends to clients that accept them
// (apps/server/src/static-files.ts). Images and fonts are compressed already and are left alone.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** The file types worth compressing; apps/server's static handler lists the same as compressible. */
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".json", ".svg", ".webmanifest", ".txt"]);
/** A copy that saves less than this share of the bytes is not worth a second file. */
const WORTHWHILE = 0.9;

const ENCODERS = {
  ".br": (data: Buffer) =>
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
  ".gz": (data: Buffer) => gzipSync(data, { level: constants.Z_BEST_COMPRESSION }),
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

/** Writes the compressed copies for every compressible file under `dir`; returns the copies written. */
export function precompress(dir: string): string[] {
  const written: string[] = [];
  for (const file of filesUnder(dir)) {
    if (!COMPRESSIBLE.has(extname(file))) continue;
    const data = readFileSync(file);
    for (const [suffix, encode] of Object.entries(ENCODERS)) {
      const compressed = encode(data);
      if (compressed.length > data.length * WORTHWHILE) continue;
      writeFileSync(file + suffix, compressed);
      written.push(file + suffix);
    }
  }
  return written;
}

/** The Vite plugin: precompress the output folder once the build has written it (build only, not dev). */
export function precompressPlugin(): Plugin {
  let outDir = "dist";
  return {
    name: "parley-precompress",
    apply: "build",
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    closeBundle() {
      const started = Date.now();
      const written = precompress(outDir);
      const bytes = written.reduce((sum, path) => sum + statSync(path).size, 0);
      this.info(`precompressed: ${written.length} files (${bytes} bytes) in ${Date.now() - started} ms`);
    },
  };
}
