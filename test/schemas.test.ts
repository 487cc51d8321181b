import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../src/generate.ts";

describe("generated files", () => {
  it.each(Object.keys(generatedFiles()).map((p) => [p.split("/").slice(-2).join("/"), p]))(
    "%s is committed as `npm run generate` writes it",
    (_name, path) => {
      expect(readFileSync(path, "utf8"), `${path} drifted from its source; run \`npm run generate\``).toBe(generatedFiles()[path]);
    },
  );
});
