// Lint for the whole workspace: `pnpm lint` from the root.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { noImportCycle } from "./eslint/no-import-cycle.js";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/dist/**", "**/generated/**", "**/.turbo/**", "**/coverage/**", "**/screenshots/**", "**/.stryker-tmp/**", "**/reports/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Type information: each file is checked against the tsconfig.json of its package.
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection: the failure vanishes or kills the process.
      "@typescript-eslint/no-floating-promises": "error",
      // An async function where a void callback is expected (event handlers, forEach) drops its rejection too.
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // A new union member must be handled wherever the union is switched on, default or not:
      // a default would take it in silently.
      "@typescript-eslint/switch-exhaustiveness-check": "error",
    },
  },
  {
    // Import cycles, type-only imports included: see eslint/no-import-cycle.js.
    files: ["**/*.ts", "**/*.tsx"],
    plugins: { parley: { rules: { "no-import-cycle": noImportCycle } } },
    rules: { "parley/no-import-cycle": "error" },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    // Command-line scripts, benchmarks and tests talk to the terminal.
    files: ["**/scripts/**", "**/test/**", "**/e2e/**", "apps/bench/**"],
    rules: { "no-console": "off" },
  },
);
