// parley/no-import-cycle through ESLint's RuleTester, on small TypeScript projects written to a
// temporary directory: the rule reads the other files of a cycle from the type-checked program,
// so they must exist on disk (the file under test is linted from the code given here).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { afterAll, describe, it } from "vitest";
import { noImportCycle } from "../no-import-cycle.js";

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const dir = mkdtempSync(join(tmpdir(), "parley-no-import-cycle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture files by name; each is written to disk and linted with exactly this text. */
const files = {
  "two-a.ts": `import { b } from "./two-b";\nexport const a = () => b;\n`,
  "two-b.ts": `import { a } from "./two-a";\nexport const b = () => a;\n`,

  "three-a.ts": `import { b } from "./three-b";\nexport const a = () => b;\n`,
  "three-b.ts": `import { c } from "./three-c";\nexport const b = () => c;\n`,
  "three-c.ts": `import { a } from "./three-a";\nexport const c = () => a;\n`,

  "types-a.ts": `import type { B } from "./types-b";\nexport interface A { b: B }\n`,
  "types-b.ts": `import { type A } from "./types-a";\nexport interface B { a: A }\n`,

  "reexport-a.ts": `export * from "./reexport-b";\nexport const a = 1;\n`,
  "reexport-b.ts": `import { a } from "./reexport-a";\nexport const b = a + 1;\n`,

  "chain-a.ts": `import { b } from "./chain-b";\nexport const a = () => b;\n`,
  "chain-b.ts": `import { c } from "./chain-c";\nexport const b = () => c;\n`,
  "chain-c.ts": `export const c = 1;\n`,
  // Imports a module that is in a cycle, without being in it.
  "beside-cycle.ts": `import { a } from "./two-a";\nexport const x = a;\n`,
};
for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), code);
writeFileSync(
  join(dir, "tsconfig.json"),
  JSON.stringify({ compilerOptions: { strict: true, module: "ESNext", moduleResolution: "Bundler", noEmit: true }, include: ["*.ts"] }),
);

const ruleTester = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: { project: join(dir, "tsconfig.json"), tsconfigRootDir: dir },
  },
});

const lint = (name) => ({ filename: join(dir, name), code: files[name] });
/** The report's path of files, as a pattern: each step named, in order, ending where it began. */
const cycle = (...names) => new RegExp(`^Import cycle: ${names.map((n) => `\\S*${n.replace(".", "\\.")}`).join(" -> ")}\\. `);

ruleTester.run("no-import-cycle", noImportCycle, {
  valid: [
    // a -> b -> c and nothing back.
    lint("chain-a.ts"),
    lint("chain-b.ts"),
    lint("chain-c.ts"),
    lint("beside-cycle.ts"),
  ],
  invalid: [
    { ...lint("two-a.ts"), errors: [{ message: cycle("two-a.ts", "two-b.ts", "two-a.ts") }] },
    { ...lint("two-b.ts"), errors: [{ message: cycle("two-b.ts", "two-a.ts", "two-b.ts") }] },
    { ...lint("three-a.ts"), errors: [{ message: cycle("three-a.ts", "three-b.ts", "three-c.ts", "three-a.ts") }] },
    { ...lint("three-c.ts"), errors: [{ message: cycle("three-c.ts", "three-a.ts", "three-b.ts", "three-c.ts") }] },
    // Type-only imports count: a cycle through types is still a knot (see the rule's header).
    { ...lint("types-a.ts"), errors: [{ message: cycle("types-a.ts", "types-b.ts", "types-a.ts") }] },
    { ...lint("types-b.ts"), errors: [{ message: cycle("types-b.ts", "types-a.ts", "types-b.ts") }] },
    // A re-export is an import too.
    { ...lint("reexport-a.ts"), errors: [{ message: cycle("reexport-a.ts", "reexport-b.ts", "reexport-a.ts") }] },
  ],
});
