/**
 * Writes the generated files: schemas/*.schema.json from the zod schemas, and the harness
 * registry harnesses/index.ts from the folders in harnesses/. Tests fail when the committed
 * copies drift from what this would write (test/schemas.test.ts, test/harness/registry.test.ts).
 */
import { writeFileSync } from "node:fs";
import { generatedFiles } from "../src/generate.ts";

for (const [path, content] of Object.entries(generatedFiles())) {
  writeFileSync(path, content);
  console.log(`wrote ${path}`);
}
