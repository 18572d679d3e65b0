// The dependencies that face the network are at or above the releases that fixed their known
// vulnerabilities (the registry's audit endpoint is not reachable from these machines), and the
// patched dependency is installed with its patch.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

const requireFromApi = createRequire(createRequire(import.meta.url).resolve("@parley/api"));
const requireHere = createRequire(import.meta.url);

/** The installed package's root directory and version, found upwards from its entry point. */
function installed(name: string, from: NodeJS.Require): { dir: string; version: string } {
  let dir = dirname(from.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return { dir, version: manifest.version };
    } catch {
      // not the package root yet
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json for ${name}`);
    dir = parent;
  }
}

/**
 * The lines a unified diff adds, by the file they go into (paths relative to the package), and
 * which of them are missing from the package installed in `dir`.
 */
function missingPatchLines(patch: string, dir: string): { file: string; line: string }[] {
  const missing: { file: string; line: string }[] = [];
  let file: string | null = null;
  let text = "";
  for (const row of patch.split("\n")) {
    if (row.startsWith("+++ b/")) {
      file = row.slice("+++ b/".length);
      text = readFileSync(join(dir, file), "utf8");
    } else if (file && row.startsWith("+") && row.slice(1).trim() !== "" && !text.includes(row.slice(1))) {
      missing.push({ file, line: row.slice(1).trim() });
    }
  }
  return missing;
}

describe("dependencies at or above their security fixes", () => {
  it.each([
    ["@trpc/server", "11.8.0", requireHere],
    ["ws", "8.17.1", requireHere],
    ["jsonwebtoken", "9.0.0", requireFromApi],
  ])("%s is at least %s", (name, minimum, from) => {
    const { version } = installed(name, from);
    // semver's order: a prerelease of the fixed version (11.8.0-rc.1) comes before it, so does not pass.
    expect(semver.gte(version, minimum), `${name} ${version}`).toBe(true);
  });
});

describe("the @trpc/server patch", () => {
  const workspace = readFileSync(requireHere.resolve("../../../pnpm-workspace.yaml"), "utf8");
  const entry = /^\s+'@trpc\/server@([^']+)': (patches\/\S+\.patch)$/m.exec(workspace);

  it("is listed in pnpm-workspace.yaml for the installed version", () => {
    expect(entry, "patchedDependencies entry for @trpc/server").not.toBeNull();
    expect(installed("@trpc/server", requireHere).version).toBe(entry?.[1]);
  });

  it("is applied: every line it adds is in the installed package's files", () => {
    const patch = readFileSync(requireHere.resolve(`../../../${entry?.[2]}`), "utf8");
    const { dir } = installed("@trpc/server", requireHere);
    expect(patch).toContain("+++ b/");
    expect(missingPatchLines(patch, dir)).toEqual([]);
  });
});
