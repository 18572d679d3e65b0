// Writes docs/api.md and docs/api.schema.json from the router: `pnpm --filter @parley/api api:docs`.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateApiDocs } from "./api-reference.js";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
for (const [path, text] of Object.entries(generateApiDocs())) {
  writeFileSync(repositoryRoot + path, text);
  console.log(`wrote ${path}`);
}
