import type { Comparison } from "../compare.ts";
import { renderCsv } from "./csv.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderTableFormat } from "./table.ts";

/** One renderer per format, like vitest's reporters: a new format is a file and a line here. */
export type Formatter = (cmp: Comparison) => string;

export const formats = {
  table: renderTableFormat,
  md: renderMarkdown,
  csv: renderCsv,
  json: renderJson,
  html: renderHtml,
} satisfies Record<string, Formatter>;

import type { FormatName } from "./names.ts";

export { FORMAT_NAMES, type FormatName } from "./names.ts";

/** Formats whose output carries the warnings itself; for the others the CLI puts them on stderr. */
export const EMBEDS_WARNINGS: ReadonlySet<FormatName> = new Set(["table", "md", "json", "html"]);
