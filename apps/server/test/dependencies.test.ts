// The dependencies that face the network are at or above the releases that fixed their known
// vulnerabilities (the registry's audit endpoint is not reachable from these machines).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

const requireFromApi = createRequire(createRequire(import.meta.url).resolve("@parley/api"));
const requireHere = createRequire(import.meta.url);

function installedVersion(name: string, from: NodeJS.Require): string {
  let dir = dirname(from.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return manifest.version;
    } catch {
      // not the package root yet
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json for ${name}`);
    dir = parent;
  }
}

describe("dependencies at or above their security fixes", () => {
  it.each([
    ["@trpc/server", "11.8.0", requireHere],
    ["ws", "8.17.1", requireHere],
    ["jsonwebtoken", "9.0.0", requireFromApi],
  ])("%s is at least %s", (name, minimum, from) => {
    const version = installedVersion(name, from);
    // semver's order: a prerelease of the fixed version (11.8.0-rc.1) comes before it, so does not pass.
    expect(semver.gte(version, minimum), `${name} ${version}`).toBe(true);
  });
});
